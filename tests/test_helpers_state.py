"""The state file and the quickstart-compatible env file: private, faithful, never mixed up."""

import json
import subprocess
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from helpers import cognito, state
from helpers.backend import Backend
from helpers.errors import WorkshopError
from helpers.paths import private_file

LOCAL_A = Backend("local", "us-east-1", "http://127.0.0.1:1", "instance-a")
LOCAL_B = Backend("local", "us-east-1", "http://127.0.0.1:2", "instance-b")
AWS = Backend("aws", "us-east-1")
TRICKY = "p=ss*w$rd!&(x)#%^ @+-_end"
BINDING = {"name": "local", "region": "us-east-1", "instance": "instance-a"}
WAY_OUT = (
    "run 13_cleanup, which deletes this workshop's resources by their names and starts afresh."
)


def _env_values(password: str = TRICKY) -> dict[str, str]:
    values = {name: f"value-of-{name.lower()}" for name in state.ENV_VARIABLES}
    values["RUNTIME_PASSWORD"] = password
    values["IDENTITY_DISCOVERY_URL"] = (
        "http://127.0.0.1:5000/us-east-1_x/.well-known/openid-configuration"
    )
    return values


def test_state_file_is_private_and_remembers_the_ledger(tmp_path):
    first = state.load(LOCAL_A, tmp_path)
    first.record("runtime_pool", "cognito-user-pool", id="us-east-1_abc")
    assert first.path.stat().st_mode & 0o777 == 0o600
    again = state.load(LOCAL_A, tmp_path)
    assert again.get("runtime_pool")["id"] == "us-east-1_abc"
    assert again.suffix == first.suffix


def test_state_of_a_stopped_local_backend_is_set_aside(tmp_path):
    old = state.load(LOCAL_A, tmp_path)
    old.record("runtime_pool", "cognito-user-pool", id="us-east-1_gone")
    fresh = state.load(LOCAL_B, tmp_path)
    assert fresh.ledger == {}
    kept = json.loads((tmp_path / ".workshop" / "state-instance-a.stale.json").read_text())
    assert kept["ledger"]["runtime_pool"]["id"] == "us-east-1_gone"


def test_state_of_another_backend_is_never_mixed_in(tmp_path):
    state.load(AWS, tmp_path).record("runtime_pool", "cognito-user-pool", id="us-east-1_real")
    with pytest.raises(WorkshopError, match="belongs to the aws backend"):
        state.load(LOCAL_A, tmp_path)
    assert state.load(AWS, tmp_path).get("runtime_pool")["id"] == "us-east-1_real"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b'{\n  "backend": {\n    "name": "lo', "is not valid JSON (it may have been cut short)"),
        (b"", "is not valid JSON (it may have been cut short)"),
        (b"\x8f\xff\x00\x13garbage", "is not text"),
        (json.dumps({"backend": BINDING, "suffix": "0123abcd"}).encode(), "has no ledger"),
        (b"[]", "does not hold a JSON object"),
        (
            json.dumps({"backend": BINDING, "suffix": "x", "ledger": {}}).encode(),
            "has 'x' where a suffix of 8 hex characters belongs",
        ),
        (
            json.dumps({"backend": BINDING, "suffix": "0123abcd", "ledger": {"a": {}}}).encode(),
            "has a ledger entry that names no kind of resource",
        ),
    ],
    ids=["cut short", "empty", "garbage", "no ledger", "a list", "bad suffix", "no kind"],
)
def test_a_damaged_state_is_one_sentence_with_the_way_out(tmp_path, content, problem):
    path = tmp_path / ".workshop" / "state.json"
    path.parent.mkdir()
    path.write_bytes(content)
    with pytest.raises(state.DamagedStateError) as error:
        state.load(LOCAL_A, tmp_path)
    assert str(error.value) == f"The workshop state {path} {problem}: {WAY_OUT}"
    assert error.value._render_traceback_() == [f"DamagedStateError: {error.value}"]
    assert path.read_bytes() == content  # kept as it is: cleanup reads the suffix from it


def test_a_state_that_cannot_be_read_says_why(tmp_path):
    path = tmp_path / ".workshop" / "state.json"
    path.mkdir(parents=True)
    with pytest.raises(state.DamagedStateError, match=r"cannot be read \(Is a directory\)"):
        state.load(LOCAL_A, tmp_path)


def _save_repeatedly(path: Path, text: str) -> None:
    for _ in range(100):
        private_file(path, text)


def test_writers_at_once_never_share_a_partial_file(tmp_path):
    """Two processes saving the same file: neither fails, and a reader only ever sees one
    writer's whole text (a shared temporary file mixes them, or vanishes under one)."""
    path = tmp_path / "state.json"
    texts = {"a" * 100_000, "b" * 100_000}
    with ProcessPoolExecutor(2) as writers:
        running = [writers.submit(_save_repeatedly, path, text) for text in texts]
        while not all(writer.done() for writer in running):
            if path.exists():
                assert path.read_text() in texts
        for writer in running:
            writer.result()
    assert path.read_text() in texts
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]  # no partial file left


def test_env_file_is_private_and_has_the_eleven_variables(tmp_path):
    path = state.write_env_file(_env_values(), tmp_path)
    assert path.name == ".agentcore_identity_user.env"
    assert path.stat().st_mode & 0o777 == 0o600
    assert list(state.read_env_file(tmp_path)) == list(state.ENV_VARIABLES)


@pytest.mark.parametrize("password", [TRICKY, "a=b", "$HOME*", "plain123"])
def test_env_file_round_trips_special_characters(tmp_path, password):
    values = _env_values(password)
    path = state.write_env_file(values, tmp_path)
    assert state.read_env_file(tmp_path) == values
    shell = subprocess.run(
        ["bash", "-c", f"set -a; source '{path}'; printf %s \"$RUNTIME_PASSWORD\""],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    assert shell.stdout == password


def test_env_file_refuses_values_it_cannot_quote(tmp_path):
    with pytest.raises(WorkshopError, match="quote"):
        state.write_env_file(_env_values("it's"), tmp_path)


def test_env_file_needs_every_variable(tmp_path):
    with pytest.raises(WorkshopError, match="IDENTITY_PASSWORD"):
        state.write_env_file({"RUNTIME_POOL_ID": "x"}, tmp_path)


def test_reading_a_missing_env_file_says_which_notebook_writes_it(tmp_path):
    with pytest.raises(WorkshopError, match="01_setup_cognito"):
        state.read_env_file(tmp_path)


def test_generated_passwords_are_written_as_they_are(tmp_path):
    password = cognito.generate_password()
    path = state.write_env_file(_env_values(password), tmp_path)
    assert f"RUNTIME_PASSWORD={password}\n" in path.read_text()  # paste it verbatim
    exported = subprocess.run(
        [
            "bash",
            "-c",
            "export $(grep -v '^#' .agentcore_identity_user.env | xargs); "
            'printf %s "$RUNTIME_PASSWORD"',
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    assert exported.stdout == password  # the quickstart's own way of loading it
