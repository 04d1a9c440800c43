"""A damaged state file, as a learner meets it: each step says so in one sentence that names
the way out, and 13_cleanup still finds the workshop's resources, by their suffix.

One workshop, as notebooks 00 to 06 leave it (made by the helpers they call), on a backend
of its own. Then each failing step, on a damaged copy of the workshop's state, runs with
the runner, as `make run` does, beside one of two cleanups (a runner stops at its first
failure, and each call costs a kernel: two at a time keep both cores busy): first one that
finds no suffix, then the one of the workshop itself.
"""

import json
import re
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from helpers.paths import NOTEBOOKS
from tests.support import (
    CLEANUP,
    LOCAL_FILES,
    client,
    inventory,
    nothing,
    run_notebooks,
    workshop_made_by_helpers,
)

WAY_OUT = (
    "run 13_cleanup, which deletes this workshop's resources by their names and starts afresh."
)


def _cut_short(text: str) -> bytes:
    return text[: len(text) // 2].encode()


def _without_ledger(text: str) -> bytes:
    return json.dumps({k: v for k, v in json.loads(text).items() if k != "ledger"}).encode()


def _garbage(_: str) -> bytes:
    return b"\x8f\xff\x00 not a ledger"


# The first step and the last to use the agent, each with a damage of its own; the garbage
# goes to the cleanup, which cannot read a suffix from it.
DAMAGED: dict[str, tuple[Callable[[str], bytes], str]] = {
    "01_setup_cognito": (_cut_short, "is not valid JSON (it may have been cut short)"),
    "07_invoke_and_authorize": (_without_ledger, "has no ledger"),
}


def _damage(folder: Path, content: bytes) -> None:
    path = folder / ".workshop" / "state.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)


def _side_by_side(*calls: tuple) -> list[subprocess.CompletedProcess]:
    with ThreadPoolExecutor(len(calls)) as runners:
        return list(runners.map(lambda call: run_notebooks(*call), calls))


@pytest.fixture(scope="module")
def runs(separate_emulator, tmp_path_factory):
    """The workshop, its steps on damaged copies of its state, a cleanup that cannot tell
    which resources are the workshop's, and the cleanup of the workshop, its state cut short."""
    url = separate_emulator.url
    out = tmp_path_factory.mktemp("workshop")
    workshop_made_by_helpers(url, out)
    text = (out / ".workshop" / "state.json").read_text()
    kept_inventory = inventory(url)
    folders = {name: tmp_path_factory.mktemp(name) for name in DAMAGED}
    for name, folder in folders.items():
        _damage(folder, DAMAGED[name][0](text))
    first_step, last_step = (
        ("--emulator", url, "--keep", "--out", folder, NOTEBOOKS / f"{name}.ipynb")
        for name, folder in folders.items()
    )
    unknown = tmp_path_factory.mktemp("unknown")  # no suffix in the state, no other file
    _damage(unknown, _garbage(text))
    refused, first = _side_by_side(("--emulator", url, "--out", unknown, CLEANUP), first_step)
    refused_inventory = inventory(url)
    control = client(url, "bedrock-agentcore-control")  # an endpoint the ledger never saw
    runtime_id = json.loads(text)["ledger"]["agent_runtime"]["id"]
    control.create_agent_runtime_endpoint(agentRuntimeId=runtime_id, name="extra")
    _damage(out, _cut_short(text))
    cleaned, last = _side_by_side(("--emulator", url, "--out", out, CLEANUP), last_step)
    return {
        "out": out,
        "suffix": json.loads(text)["suffix"],
        "steps": {
            name: (folders[name], run) for name, run in zip(DAMAGED, (first, last), strict=True)
        },
        "unknown": (unknown, refused),
        "cleaned": cleaned,
        "inventories": [kept_inventory, refused_inventory, inventory(url)],
    }


def _errors(executed: Path) -> list[tuple[str, dict]]:
    """Each error an executed notebook shows, with the source of its cell."""
    notebook = nbformat.read(executed, as_version=4)
    return [
        (cell.source, output)
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "error"
    ]


def _only_the_sentence(folder: Path, notebook: str, ename: str, sentence: str, stderr: str) -> None:
    """The runner and the notebook both show the sentence, in the step's first cell, and no
    traceback: not a frame of the helpers, not a line of Python's."""
    first = next(
        cell.source
        for cell in nbformat.read(NOTEBOOKS / f"{notebook}.ipynb", as_version=4).cells
        if cell.cell_type == "code" and "parameters" not in cell.metadata.get("tags", [])
    )
    ((source, error),) = _errors(folder / f"{notebook}.ipynb")
    assert source == first
    assert error == {
        "output_type": "error",
        "ename": ename,
        "evalue": sentence,
        "traceback": [f"{ename}: {sentence}"],
    }
    opening = re.escape(first.splitlines()[0])
    failed = rf"{notebook}\.ipynb failed: cell \[\d+\] `{opening}`: {ename}: "
    assert re.search(failed + re.escape(sentence) + "$", stderr, re.M), stderr[-3000:]
    assert "Traceback" not in stderr and "helpers/" not in stderr


@pytest.mark.parametrize("notebook", DAMAGED)
def test_a_step_on_a_damaged_state_says_so_in_one_sentence(runs, notebook):
    folder, run = runs["steps"][notebook]
    assert run.returncode == 1
    assert re.search(rf"{notebook}\.ipynb\s+FAILED", run.stdout)
    path = folder / ".workshop" / "state.json"
    sentence = f"The workshop state {path} {DAMAGED[notebook][1]}: {WAY_OUT}"
    _only_the_sentence(folder, notebook, "DamagedStateError", sentence, run.stderr)


def test_cleanup_that_cannot_find_the_suffix_names_the_ones_it_sees(runs):
    folder, run = runs["unknown"]
    assert run.returncode == 1
    sentence = (
        "Cleanup cannot tell which resources are this workshop's, as the state file "
        f"{folder / '.workshop' / 'state.json'} is not text and no other file of the workshop "
        "names its suffix: set SUFFIX in the parameters cell to the 8 characters that end "
        f"this workshop's resource names (names here end in {runs['suffix']})."
    )
    _only_the_sentence(folder, CLEANUP.stem, "WorkshopError", sentence, run.stderr)
    kept, refused, _ = runs["inventories"]
    assert refused == kept and not nothing(kept)  # it deleted nothing …
    assert (folder / ".workshop" / "state.json").exists()  # … and removed nothing


def test_cleanup_of_a_state_cut_short_deletes_everything_by_the_suffix(runs):
    out, run = runs["out"], runs["cleaned"]
    assert run.returncode == 0, run.stderr[-3000:]
    assert re.search(r"13_cleanup\.ipynb\s+ok", run.stdout)
    shown = json.dumps([c.get("outputs", []) for c in nbformat.read(out / CLEANUP.name, 4).cells])
    assert (  # two pools, a domain, the provider, workload identity, role, bucket and runtime
        "The state file is not valid JSON (it may have been cut short), so list calls found the "
        f"8 resources named for this workshop's suffix {runs['suffix']} "
        "(read from .workshop/state.json)."
    ) in shown
    assert "Everything the workshop created is gone." in shown
    assert nothing(runs["inventories"][-1]), runs["inventories"][-1]
    for name in (*LOCAL_FILES, ".workshop"):
        assert not (out / name).exists(), name
