"""The regression runner (`make run`) under faults: failing and hanging steps, signals,
a second run in the same folder. Each test runs a few notebooks on a backend of the
module's own and checks that nothing is left behind."""

import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import nbformat
import papermill
import pytest

from helpers import settings
from helpers.backend import LOCAL, health
from helpers.cli.runner import imported_by, new_run_folder, only_run, run_notebook, start_kernel
from helpers.paths import NOTEBOOKS
from tests.support import (
    CLEANUP,
    LOCAL_FILES,
    ORDER,
    STEPS,
    inventory,
    nothing,
    outputs,
    run_notebooks,
    workshop_made_by_helpers,
)


def test_second_provider_runs_after_its_prerequisites_with_a_vendor(
    separate_emulator, tmp_path, monkeypatch
):
    """01 and 04 (made by the helpers) are all 11 needs; a vendor client given, its provider
    is made and removed."""
    url, secret = separate_emulator.url, "a-vendor-client-secret-nobody-sees"
    workshop_made_by_helpers(url, tmp_path, last="04")
    monkeypatch.setenv(settings.WORKSHOP_DIR, str(tmp_path))
    monkeypatch.setenv(settings.EMULATOR_URL, url)
    monkeypatch.setenv(settings.VENDOR_CLIENT_SECRET, secret)
    executed = tmp_path / "11_second_provider.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOKS / executed.name),
        str(executed),
        parameters={"INTERACTIVE": False, "VENDOR": "GithubOauth2", "VENDOR_CLIENT_ID": "Iv1.x"},
        cwd=str(NOTEBOOKS),
        kernel_name="python3",
        progress_bar=False,
    )
    shown = outputs(executed)
    assert "Redirect URI to register at the vendor" in shown and "One user, two providers" in shown
    assert secret not in shown and secret not in executed.read_text()
    assert any(name.startswith("GithubProvider-") for name in inventory(url)["providers"])
    cleanup = run_notebooks("--emulator", url, "--out", tmp_path, CLEANUP)
    assert cleanup.returncode == 0, cleanup.stderr[-3000:]
    assert nothing(inventory(url))


# 04 is the prefix of the vendor test above; 06, of the Ctrl-C test below (and
# test_damaged_state cleans up what 06 leaves without a ledger, at that).
@pytest.mark.parametrize("last", ["01_setup_cognito"])
def test_cleanup_after_any_prefix_leaves_nothing(separate_emulator, tmp_path, last):
    prefix = [path for path in STEPS if path.stem <= last]
    result = run_notebooks("--emulator", separate_emulator.url, "--out", tmp_path, *prefix)
    assert result.returncode == 0, result.stderr[-3000:]
    assert re.search(r"13_cleanup\.ipynb\s+ok", result.stdout)
    assert nothing(inventory(separate_emulator.url))
    assert not (tmp_path / ".workshop" / "state.json").exists()


def _prerequisites_with(path: Path, source: str, index: int) -> Path:
    """00_prerequisites with one more code cell at ``index``, written to ``path``."""
    notebook = nbformat.read(ORDER[0], as_version=4)
    notebook.cells.insert(index, nbformat.v4.new_code_cell(source))
    nbformat.write(notebook, path)
    return path


def test_a_failing_step_still_cleans_up_and_names_the_cell(separate_emulator, tmp_path):
    broken = _prerequisites_with(
        tmp_path / "02_broken.ipynb", "raise RuntimeError('step did not work')", index=-1
    )
    steps = [STEPS[0], STEPS[1], broken, STEPS[4]]
    result = run_notebooks("--emulator", separate_emulator.url, "--out", tmp_path / "out", *steps)
    assert result.returncode == 1
    assert re.search(r"02_broken\.ipynb\s+FAILED", result.stdout)
    assert STEPS[4].name not in result.stdout  # nothing runs after the failure …
    assert re.search(r"13_cleanup\.ipynb\s+ok", result.stdout)  # … but the cleanup
    assert "`raise RuntimeError('step did not work')`: RuntimeError: step did not work" in (
        result.stderr
    )
    assert nothing(inventory(separate_emulator.url))


def test_runner_fails_a_cell_that_hangs(separate_emulator, tmp_path):
    hanging = _prerequisites_with(
        tmp_path / "98_hangs.ipynb", "import time\ntime.sleep(60)", index=2
    )
    result = run_notebooks(
        "--emulator",
        separate_emulator.url,
        "--keep",
        "--cell-timeout",
        "3",
        "--out",
        tmp_path,
        hanging,
    )
    assert result.returncode == 1
    assert re.search(r"98_hangs\.ipynb\s+FAILED", result.stdout)
    assert "`import time`: Timeout: the cell ran longer than 3 s" in result.stderr
    executed = nbformat.read(tmp_path / hanging.name, as_version=4)  # written all the same
    (hung,) = [c for c in executed.cells if c.source.startswith("import time")]
    assert [o.get("ename") for o in hung.outputs] == ["KeyboardInterrupt"]


def test_a_waiting_kernel_imports_what_its_notebook_imports_and_no_debugger(tmp_path):
    notebook = tmp_path / "imports.ipynb"
    checks = (
        "import sys\n"
        "assert {'helpers.display', 'helpers.state', 'json'} <= set(sys.modules)\n"
        "assert not {'display', 'state', 'json', '_warm', '_gc', 'm', '_0'} & set(dir())\n"
        "assert _ == ''  # and no output\n"
        "assert '_pydevd_bundle' not in sys.modules  # no debugger in a headless kernel …\n"
        "assert not get_ipython().history_manager.enabled  # … and no history\n"
        "import gc\n"
        "assert gc.isenabled() and gc.get_freeze_count() > 0  # what it imported, frozen"
    )
    cells = [
        checks,
        "%%time\nfrom helpers import display",
        "import json\nfrom helpers import state",
    ]
    python = {"kernelspec": {"name": "python3", "language": "python", "display_name": "Python"}}
    cells = list(map(nbformat.v4.new_code_cell, cells))
    nbformat.write(nbformat.v4.new_notebook(cells=cells, metadata=python), notebook)
    assert imported_by(notebook) == ["gc", "helpers.state", "json", "sys"]  # a magic's is skipped
    notebook.write_text(notebook.read_text().replace("%%time\\n", ""))
    assert imported_by(notebook) == ["gc", "helpers.display", "helpers.state", "json", "sys"]
    assert "helpers.packaging" in imported_by(
        NOTEBOOKS / "06_launch.ipynb"
    )  # `from helpers import (`

    kernel = start_kernel(notebook)
    result = run_notebook(notebook, tmp_path, LOCAL, "us-east-1", 60, kernel)
    assert result.status == "ok", result.error


def test_runner_refuses_a_missing_notebook(tmp_path):
    result = run_notebooks("--out", tmp_path, tmp_path / "no-such.ipynb")
    assert result.returncode == 2
    assert "no such notebook" in result.stderr


def test_runner_refuses_keep_with_the_cleanup_named(tmp_path):
    result = run_notebooks("--keep", "--out", tmp_path, STEPS[0], CLEANUP)
    assert result.returncode == 2
    assert "--keep skips 13_cleanup.ipynb, which you named" in result.stderr


def test_a_second_run_in_the_same_folder_is_refused(tmp_path):
    with only_run(tmp_path):
        result = run_notebooks("--keep", "--out", tmp_path, STEPS[0])
    assert result.returncode == 2
    assert f"Another run (pid {os.getpid()}) is using the workshop folder {tmp_path}" in (
        result.stderr
    )
    assert not list(tmp_path.glob("*.ipynb"))  # it ran nothing


def test_runs_started_in_the_same_second_get_folders_of_their_own(tmp_path):
    folders: list[Path] = []
    starts = [
        threading.Thread(target=lambda: folders.append(new_run_folder(tmp_path))) for _ in range(6)
    ]
    for start in starts:
        start.start()
    for start in starts:
        start.join()
    assert len(set(folders)) == 6 and all(folder.is_dir() for folder in folders)
    assert all(folder.stat().st_mode & 0o077 == 0 for folder in folders)  # private


def _runner(*args: str | Path) -> subprocess.Popen:
    """The runner as `make run` starts it from a terminal, where Ctrl-C reaches it.

    A background job of a non-interactive shell (as a test's process may be) starts with
    SIGINT ignored; the terminal's runner has the default, so restore it.
    """
    return subprocess.Popen(
        [sys.executable, "-m", "helpers.cli.runner", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def _when_running(runner: subprocess.Popen, notebook: str, *signals: signal.Signals) -> str:
    """Send ``signals`` once the runner starts ``notebook``, each after the runner said it
    handled the one before (signals sent together may arrive as one); what it said."""
    for line in runner.stdout:
        if line.startswith(f"running {notebook}"):
            break
    said = ""
    for index, number in enumerate(signals):
        if index:
            while f"{signals[index - 1].name}: " not in said and (line := runner.stderr.readline()):
                said += line
        runner.send_signal(number)
    return said


def test_ctrl_c_mid_run_stops_the_step_and_still_cleans_up(separate_emulator, tmp_path):
    """Stopped as it deploys, with all that 00 to 05 made (by the helpers) to clean up."""
    workshop_made_by_helpers(separate_emulator.url, tmp_path, last="05")
    runner = _runner("--emulator", separate_emulator.url, "--out", tmp_path, STEPS[6])
    _when_running(runner, "06_launch", signal.SIGINT)
    stdout, stderr = runner.communicate(timeout=300)
    assert runner.returncode == 1, stderr
    assert "SIGINT: stopping this step, then cleaning up" in stderr
    assert re.search(r"06_launch\.ipynb\s+STOPPED", stdout), stdout
    assert re.search(r"13_cleanup\.ipynb\s+ok", stdout), stderr
    assert "06_launch.ipynb stopped: " in stderr and "stopped by SIGINT" in stderr
    assert nothing(inventory(separate_emulator.url))
    for name in LOCAL_FILES:
        assert not (tmp_path / name).exists(), name


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGHUP])
def test_a_terminated_run_cleans_up_and_stops_its_own_backend(tmp_path, number):
    runner = _runner("--out", tmp_path, *STEPS[:2])
    _when_running(runner, "01_setup_cognito", number)
    stdout, stderr = runner.communicate(timeout=300)
    assert runner.returncode == 1, stderr
    assert f"{number.name}: stopping this step" in stderr
    assert re.search(r"13_cleanup\.ipynb\s+ok", stdout), stderr
    for name in LOCAL_FILES:
        assert not (tmp_path / name).exists(), name
    log = (tmp_path / "emulator.log").read_text()
    url = next(line.split()[1] for line in log.splitlines() if line.startswith("READY "))
    assert health(url) is None, "the run's local backend is still running"


def test_a_second_ctrl_c_aborts_the_cleanup_and_says_how_to_finish(separate_emulator, tmp_path):
    url = separate_emulator.url
    runner = _runner("--emulator", url, "--out", tmp_path, *STEPS[:2])
    said = _when_running(runner, "13_cleanup", signal.SIGINT, signal.SIGINT)
    stdout, stderr = runner.communicate(timeout=300)
    stderr = said + stderr
    assert runner.returncode == 1, stderr
    assert "SIGINT: the cleanup goes on (SIGINT again aborts it)." in stderr
    assert re.search(r"13_cleanup\.ipynb\s+ABORTED", stdout), stdout
    assert "Cleanup aborted. Left behind:\n  - " in stderr
    assert "user pool" in stderr.split("Cleanup aborted.")[1]
    assert not nothing(inventory(url))
    command = re.search(r"To finish the cleanup .*: python -m helpers\.cli\.runner (.*)", stderr)
    finished = run_notebooks(*command.group(1).split())
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert nothing(inventory(url))
    assert not (tmp_path / ".workshop" / "state.json").exists()
