"""The notebooks, executed headlessly by the runner exactly as `make run` does."""

import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from helpers.paths import NOTEBOOKS

ORDER = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
# A JWS (bearer token) or JWE (workload access token): a base64url JSON header, then a dot.
TOKEN = re.compile(r"eyJ[\w-]{10,}\.[\w.-]{20,}")


def _run(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "helpers.runner", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    out = tmp_path_factory.mktemp("run")
    return _run("--out", out), out


def _outputs(path: Path) -> str:
    """Everything an executed notebook shows, as one text."""
    notebook = nbformat.read(path, as_version=4)
    return json.dumps([cell.get("outputs", []) for cell in notebook.cells])


def test_runner_executes_every_notebook_and_prints_the_table(run):
    result, out = run
    assert result.returncode == 0, result.stderr[-3000:]
    for notebook in ORDER:
        assert re.search(rf"{notebook.name}\s+ok\s+\d+\.\d", result.stdout), result.stdout
        assert (out / notebook.name).exists()


def test_prerequisites_show_versions_and_the_local_backend(run):
    _, out = run
    shown = _outputs(out / "00_prerequisites.ipynb")
    assert "bedrock-agentcore" in shown
    assert "123456789012" in shown
    assert "NOT a language model" in shown
    assert "Ready: local backend in us-east-1." in shown


def test_agent_notebook_shows_the_agents_code(run):
    _, out = run
    shown = _outputs(out / "02_agent_code.ipynb")
    for piece in ("requires_access_token", "USER_FEDERATION", "invoke_async", "ContextVar"):
        assert piece in shown, piece
    assert "per-request URL capture" in shown


def test_authorizer_notebook_shows_which_token_passes(run):
    _, out = run
    shown = _outputs(out / "03_configure_jwt_auth.ipynb")
    ledger = json.loads((out / ".workshop" / "state.json").read_text())["ledger"]
    assert "customJWTAuthorizer" in shown
    assert ledger["runtime_client"]["id"] in shown
    assert "The access token passes the authorizer; the ID token does not." in shown


def test_launch_notebook_deploys_a_ready_runtime(run):
    _, out = run
    shown = _outputs(out / "06_launch.ipynb")
    data = json.loads((out / ".workshop" / "state.json").read_text())
    runtime_id = data["ledger"]["agent_runtime"]["id"]
    assert runtime_id in shown
    assert "READY" in shown
    assert data["session_binding_url"] in shown
    assert "ProviderSecret" in shown
    assert data["ledger"]["execution_role"]["name"] in shown


def test_setup_cognito_shows_pools_and_claims_and_leaves_state(run):
    _, out = run
    shown = _outputs(out / "01_setup_cognito.ipynb")
    ledger = json.loads((out / ".workshop" / "state.json").read_text())["ledger"]
    assert ledger["runtime_pool"]["id"] in shown
    assert ledger["runtime_client"]["id"] in shown
    assert "token_use" in shown
    assert "Both pools exist" in shown
    assert (out / ".agentcore_identity_user.env").stat().st_mode & 0o777 == 0o600


def test_credential_provider_is_shown_with_its_secret_as_an_arn(run):
    _, out = run
    shown = _outputs(out / "04_credential_provider.ipynb")
    ledger = json.loads((out / ".workshop" / "state.json").read_text())["ledger"]
    assert ledger["credential_provider"]["name"] in shown
    assert ":secretsmanager:" in shown
    assert "/identities/oauth2/callback/" in shown
    assert "is ready." in shown


def test_workload_identity_notebook_points_local_development_at_it(run):
    _, out = run
    shown = _outputs(out / "05_workload_identity.ipynb")
    workload = json.loads((out / ".workshop" / "state.json").read_text())["ledger"][
        "workload_identity"
    ]["name"]
    assert workload in shown
    assert "Workload access token" in shown
    local_dev = json.loads((out / ".agentcore.json").read_text())
    assert local_dev["workload_identity_name"] == workload


def test_invoke_notebook_shows_the_consent_link_then_the_authenticated_answer(run):
    _, out = run
    shown = _outputs(out / "07_invoke_and_authorize.ipynb")
    assert "Please authorize access to the external service: http://127.0.0.1:" in shown
    assert re.search(r"Signed in as externaluser\w+: \d+ requests", shown)
    assert shown.count("Connected to the external service (access token of") == 3
    assert "Consent once, then the agent acted for you on every call." in shown


def test_no_secret_appears_in_any_executed_notebook(run):
    _, out = run
    secrets = set()
    for entry in json.loads((out / ".workshop" / "state.json").read_text())["ledger"].values():
        secrets |= {entry.get("password"), entry.get("secret")}
    env = (out / ".agentcore_identity_user.env").read_text()
    secrets |= {line.split("=", 1)[1].strip("'") for line in env.splitlines() if "PASSWORD" in line}
    secrets.discard(None)
    assert len(secrets) >= 3
    for executed in out.glob("*.ipynb"):
        shown = _outputs(executed)
        leaked = [s for s in secrets if s in shown or json.dumps(s)[1:-1] in shown]
        assert not leaked, f"{executed.name} shows a secret"
        assert not TOKEN.search(shown), f"{executed.name} shows a token in full"


def test_runner_stops_at_a_failing_cell_and_names_it(tmp_path):
    failing = tmp_path / "99_broken.ipynb"
    notebook = nbformat.read(ORDER[0], as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell("raise RuntimeError('step did not work')"))
    nbformat.write(notebook, failing)
    result = _run(failing, ORDER[0], "--out", tmp_path / "out")
    assert result.returncode == 1
    assert re.search(r"99_broken\.ipynb\s+FAILED", result.stdout)
    assert ORDER[0].name not in result.stdout  # nothing runs after the failure
    assert "`raise RuntimeError('step did not work')`: RuntimeError: step did not work" in (
        result.stderr
    )


def test_runner_fails_a_cell_that_hangs(tmp_path):
    hanging = tmp_path / "98_hangs.ipynb"
    notebook = nbformat.read(ORDER[0], as_version=4)
    notebook.cells.insert(2, nbformat.v4.new_code_cell("import time\ntime.sleep(60)"))
    nbformat.write(notebook, hanging)
    result = _run(hanging, "--cell-timeout", "3", "--out", tmp_path / "out")
    assert result.returncode == 1
    assert re.search(r"98_hangs\.ipynb\s+FAILED", result.stdout)
    assert "Timeout" in result.stderr


@pytest.mark.parametrize("path", ORDER, ids=lambda p: p.name)
def test_committed_notebook_is_clean_and_follows_the_template(path):
    notebook = nbformat.read(path, as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), "commit without outputs"
    assert notebook.cells[0].cell_type == "markdown"
    assert "What you'll do" in notebook.cells[0].source
    parameters = notebook.cells[1]
    assert "parameters" in parameters.metadata.get("tags", [])
    for name in ("BACKEND", "REGION", "INTERACTIVE"):
        assert re.search(rf"^{name} = ", parameters.source, re.M), name
    assert any(c.cell_type == "markdown" and c.source.strip() == "## Check" for c in notebook.cells)
    assert "assert" in code[-1].source, "the last code cell checks the step"
