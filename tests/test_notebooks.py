"""The notebooks, executed headlessly by the runner as `make run` does, on a backend of their
own: the whole sequence, again (nothing new the second time), then cleanup twice."""

import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from helpers import model
from helpers.paths import NOTEBOOKS
from tests.support import (
    CLEANUP,
    LOCAL_FILES,
    ORDER,
    STEPS,
    client,
    inventory,
    nothing,
    outputs,
    run_notebooks,
)

# Run again, as a learner does: all but 08 to 10, whose steps' second run the helpers' tests
# check (test_helpers_machine_agent, test_helpers_cognito), and which show nothing new then.
AGAIN = [path for path in STEPS if path.stem[:2] not in ("08", "09", "10")]
# A JWS (bearer token) or JWE (workload access token): a base64url JSON header, then a dot.
TOKEN = re.compile(r"eyJ[\w-]{10,}\.[\w.-]{20,}")


@pytest.fixture(scope="module")
def lifecycle(separate_emulator, tmp_path_factory):
    """Every step, then again (keeping the resources), then the cleanup twice, all in one
    workshop folder."""
    url = separate_emulator.url
    out = tmp_path_factory.mktemp("workshop")
    first_copy = tmp_path_factory.mktemp("first-run")
    first = run_notebooks("--emulator", url, "--keep", "--out", out)
    for executed in out.glob("*.ipynb"):
        shutil.copy(executed, first_copy)
    ledger = json.loads((out / ".workshop" / "state.json").read_text())["ledger"]
    secrets = _secrets_of(out) | _stored_secrets(url)
    after_first = inventory(url)
    second = run_notebooks("--emulator", url, "--keep", "--out", out, *AGAIN)
    after_second = inventory(url)
    cleanup_only = CLEANUP
    cleanups = [run_notebooks("--emulator", url, "--out", out, cleanup_only)]
    shutil.copy(out / cleanup_only.name, first_copy)  # the cleanup that deleted everything
    cleanups.append(run_notebooks("--emulator", url, "--out", out, cleanup_only))
    return {
        "out": out,
        "first_copy": first_copy,
        "runs": [first, second],
        "cleanups": cleanups,
        "ledger": ledger,
        "secrets": secrets,
        "inventories": [after_first, after_second, inventory(url)],
    }


def _secrets_of(out: Path) -> set[str]:
    """Every password and client secret the run produced, from its state and env file."""
    found = set()
    for entry in json.loads((out / ".workshop" / "state.json").read_text())["ledger"].values():
        found |= {entry.get("password"), entry.get("secret")}
    env = (out / ".agentcore_identity_user.env").read_text()
    for line in env.splitlines():
        if line.split("=")[0].endswith(("PASSWORD", "SECRET")):
            found.add(line.split("=", 1)[1].strip("'"))
    found.discard(None)
    return found


def _stored_secrets(url: str) -> set[str]:
    """Every value in Secrets Manager (client secrets, API keys), current and previous."""
    manager = client(url, "secretsmanager")
    found = set()
    for secret in manager.list_secrets()["SecretList"]:
        for version in manager.list_secret_version_ids(SecretId=secret["ARN"])["Versions"]:
            text = manager.get_secret_value(SecretId=secret["ARN"], VersionId=version["VersionId"])
            try:
                values = json.loads(text["SecretString"]).values()
            except ValueError:
                values = [text["SecretString"]]
            found |= {v for v in values if isinstance(v, str) and len(v) >= 8}
    return found


def test_both_runs_execute_every_step_and_print_the_table(lifecycle):
    for run, steps in zip(lifecycle["runs"], (STEPS, AGAIN), strict=True):
        assert run.returncode == 0, run.stderr[-3000:]
        for notebook in steps:
            assert re.search(rf"{notebook.name}\s+ok\s+\d+\.\d", run.stdout), run.stdout
        assert "13_cleanup" not in run.stdout  # --keep
        assert re.search(r"AWS API calls made \(counted by the local backend\): \d+", run.stdout)
        assert "IPKernelApp" not in run.stderr, run.stderr[-3000:]  # no kernel warnings


def test_the_second_run_creates_nothing_new(lifecycle):
    first, second, _ = lifecycle["inventories"]
    assert first == second
    assert len(first["pools"]) == 3  # the quickstart's two and 11's calendar
    assert len(first["runtimes"]) == 3  # the quickstart's, 09's and 11's
    assert len(first["api key providers"]) == 1 and len(first["resource servers"]) == 1


def test_the_second_run_gives_the_same_answers(lifecycle):
    for name in ("01_setup_cognito.ipynb", "07_invoke_and_authorize.ipynb"):
        first = outputs(lifecycle["first_copy"] / name)
        second = outputs(lifecycle["out"] / name)
        for marker in ("Both pools exist", "Consent once, then the agent acted for you"):
            assert (marker in first) == (marker in second)
    ledger = lifecycle["ledger"]
    assert ledger["runtime_pool"]["id"] in outputs(lifecycle["out"] / "01_setup_cognito.ipynb")


def test_cleanup_leaves_an_empty_backend_and_no_local_files(lifecycle):
    first_cleanup, second_cleanup = lifecycle["cleanups"]
    assert first_cleanup.returncode == 0, first_cleanup.stderr[-3000:]
    assert re.search(r"13_cleanup\.ipynb\s+ok", first_cleanup.stdout)
    assert nothing(lifecycle["inventories"][2]), lifecycle["inventories"][2]
    for name in LOCAL_FILES:
        assert not (lifecycle["out"] / name).exists(), name
    shown = outputs(lifecycle["out"] / "13_cleanup.ipynb")
    assert "Nothing recorded: nothing to delete." in shown  # the second cleanup
    assert second_cleanup.returncode == 0


def test_prerequisites_show_versions_and_the_local_backend(lifecycle):
    shown = outputs(lifecycle["out"] / "00_prerequisites.ipynb")
    assert "bedrock-agentcore" in shown
    assert "NOT a language model" in shown
    assert "Model: Anthropic use-case form" in shown  # the preflight's table
    assert f"Ready: local backend in us-east-1, model us.{model.FOUNDATION_MODEL}." in shown


def test_setup_cognito_shows_pools_and_claims(lifecycle):
    shown = outputs(lifecycle["first_copy"] / "01_setup_cognito.ipynb")
    assert lifecycle["ledger"]["runtime_client"]["id"] in shown
    assert "token_use" in shown
    assert "Both pools exist" in shown


def test_agent_notebook_shows_the_agents_code(lifecycle):
    shown = outputs(lifecycle["out"] / "02_agent_code.ipynb")
    for piece in ("requires_access_token", "USER_FEDERATION", "invoke_async", "ContextVar"):
        assert piece in shown, piece
    assert "per-request URL capture" in shown


def test_authorizer_notebook_shows_which_token_passes(lifecycle):
    shown = outputs(lifecycle["out"] / "03_configure_jwt_auth.ipynb")
    assert "customJWTAuthorizer" in shown
    assert "The access token passes the authorizer; the ID token does not." in shown


def test_credential_provider_is_shown_with_its_secret_as_an_arn(lifecycle):
    shown = outputs(lifecycle["out"] / "04_credential_provider.ipynb")
    assert lifecycle["ledger"]["credential_provider"]["name"] in shown
    assert ":secretsmanager:" in shown
    assert "/identities/oauth2/callback/" in shown


def test_workload_identity_notebook_points_local_development_at_it(lifecycle):
    shown = outputs(lifecycle["out"] / "05_workload_identity.ipynb")
    assert lifecycle["ledger"]["workload_identity"]["name"] in shown
    assert "workload_identity_name" in shown


def test_launch_notebook_shows_the_runtimes_real_refusals(lifecycle):
    shown = outputs(lifecycle["first_copy"] / "06_launch.ipynb")
    assert "Claim &#x27;client_id&#x27; value mismatch with configuration." in shown
    assert "Missing bearer token." in shown
    assert shown.count("UnauthorizedException") >= 2


def test_prerequisites_map_the_cli_quickstart_to_the_notebooks():
    notebook = nbformat.read(NOTEBOOKS / "00_prerequisites.ipynb", as_version=4)
    text = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    for command in ("setup-cognito", "create-credential-provider", "launch", "destroy"):
        assert f"`agentcore {command}" in text or f"agentcore identity {command}" in text


def test_launch_notebook_deploys_a_ready_runtime(lifecycle):
    shown = outputs(lifecycle["out"] / "06_launch.ipynb")
    assert lifecycle["ledger"]["agent_runtime"]["id"] in shown
    assert "READY" in shown
    assert "ProviderSecret" in shown
    assert lifecycle["ledger"]["execution_role"]["name"] in shown


def test_invoke_notebook_shows_the_consent_link_then_the_authenticated_answer(lifecycle):
    shown = outputs(lifecycle["first_copy"] / "07_invoke_and_authorize.ipynb")
    assert "🔐 Authorization Required" in shown  # the quickstart's own texts
    assert "/identities/oauth2/authorize?request" in shown  # the link, however it was worded
    assert re.search(r"Signed in as externaluser\w+: \d+ requests", shown)
    assert shown.count("✅ Authenticated to external service\\nToken length: ") == 3
    assert "Consent once, then the agent acted for you on every call." in shown


def test_two_users_get_two_tokens_and_cannot_bind_each_others_session(lifecycle):
    shown = outputs(lifecycle["first_copy"] / "08_two_users.ipynb")
    two = r"One agent, two users: externaluser\w+ for you, externalbob\w+ for Bob"
    assert re.search(two, shown)
    assert "Invalid or expired session" in shown and "flowchart LR" in shown


def test_machine_to_machine_shows_the_granted_scope_and_the_refused_one(lifecycle):
    shown = outputs(lifecycle["first_copy"] / "09_machine_to_machine.ipynb")
    assert "external-service/read" in shown and "invalid_scope" in shown
    assert "ValidationException" in shown  # AgentCore Identity's answer to the refused scope
    assert "got an M2M token for external-service/read and was refused write." in shown


def test_api_keys_are_rotated_and_the_agent_uses_the_new_one(lifecycle):
    shown = outputs(lifecycle["first_copy"] / "10_api_keys.ipynb")
    assert re.search(r"moved from sha256:\w{12} to sha256:\w{12} without a redeploy", shown)


def test_one_user_holds_two_providers_tokens_and_consents_again_on_demand(lifecycle):
    first = outputs(lifecycle["first_copy"] / "11_second_provider.ipynb")
    both = r"One user, two providers: externaluser\w+ at one service, calendaruser\w+ at the other"
    assert re.search(both, first)
    assert first.count("🔐 Authorization Required for the calendar") == 2  # forced: twice
    assert re.search(r"Signed in as calendaruser\w+: \d+ requests", first)
    again = outputs(lifecycle["out"] / "11_second_provider.ipynb")
    assert "Already connected: the token vault still holds your calendar token" in again
    assert "🔐 Authorization Required for the external service" not in again
    assert again.count("🔐 Authorization Required for the calendar") == 1  # the forced one
    assert re.search(both, again)


def test_invoke_notebook_run_again_finds_the_token_in_the_vault(lifecycle):
    shown = outputs(lifecycle["out"] / "07_invoke_and_authorize.ipynb")
    assert "Already connected: the token vault still holds your external service token" in shown
    assert shown.count("✅ Authenticated to external service\\nToken length: ") == 4


SHOWN_CALLS = {
    "01_setup_cognito": (
        "CreateUserPool",
        "CreateUserPoolClient",
        "CreateUserPoolDomain",
        "AdminCreateUser",
        "InitiateAuth",
    ),
    "04_credential_provider": ("CreateOauth2CredentialProvider", "UpdateUserPoolClient"),
    "05_workload_identity": ("CreateWorkloadIdentity", "GetWorkloadAccessTokenForJWT"),
    "06_launch": (
        "CreateRole",
        "PutRolePolicy",
        "PutObject",
        "CreateAgentRuntime",
        "UpdateWorkloadIdentity",
    ),
    "07_invoke_and_authorize": ("InvokeAgentRuntime", "CompleteResourceTokenAuth"),
    "08_two_users": ("AdminCreateUser", "InvokeAgentRuntime", "CompleteResourceTokenAuth"),
    "09_machine_to_machine": (
        "CreateResourceServer",
        "CreateOauth2CredentialProvider",
        "CreateAgentRuntime",
        "InvokeAgentRuntime",
    ),
    "10_api_keys": ("CreateApiKeyCredentialProvider", "UpdateApiKeyCredentialProvider"),
    "11_second_provider": (
        "CreateUserPool",
        "CreateOauth2CredentialProvider",
        "CreateAgentRuntime",
        "InvokeAgentRuntime",
        "CompleteResourceTokenAuth",
    ),
    "13_cleanup": (
        "DeleteAgentRuntime",
        "DeleteLogGroup",
        "DeleteOauth2CredentialProvider",
        "DeleteApiKeyCredentialProvider",
        "DeleteResourceServer",
        "DeleteUserPool",
    ),
}


@pytest.mark.parametrize(("notebook", "operations"), SHOWN_CALLS.items())
def test_each_step_shows_the_aws_calls_it_made(lifecycle, notebook, operations):
    calls = nbformat.read(lifecycle["first_copy"] / f"{notebook}.ipynb", as_version=4)
    table = next(c for c in calls.cells if c.cell_type == "code" and c.source == "be.calls")
    shown = json.dumps(table.outputs)
    for operation in operations:
        assert f"<td style='text-align:left'>{operation}</td>" in shown, operation


def test_central_calls_are_shown_as_code_to_reuse(lifecycle):
    provider = outputs(lifecycle["first_copy"] / "04_credential_provider.ipynb")
    assert "client.create_oauth2_credential_provider(" in provider
    assert "<clientSecret>" in provider
    invoked = outputs(lifecycle["first_copy"] / "07_invoke_and_authorize.ipynb")
    assert "requests.post(" in invoked and "client.complete_resource_token_auth(" in invoked
    again = outputs(lifecycle["out"] / "04_credential_provider.ipynb")
    assert "CreateOauth2CredentialProvider: not called in this run" in again


def _diagram(path: Path) -> str:
    notebook = nbformat.read(path, as_version=4)
    (cell,) = [c for c in notebook.cells if c.source.startswith("be.calls.sequence_diagram(")]
    return cell.outputs[0]["data"]["text/markdown"]


def test_the_invoke_notebook_draws_the_flow_of_its_own_run(lifecycle):
    first = _diagram(lifecycle["first_copy"] / "07_invoke_and_authorize.ipynb")
    assert "sequenceDiagram" in first
    for arrow in (
        "Browser->>Cognito: sign in",
        "Browser->>Identity: provider callback",
        "Browser->>Binding: return URL",
        "Binding->>Identity: CompleteResourceTokenAuth",
        "Runtime->>Agent: POST /invocations",  # the local backend's own hops, from its trace
        "Agent->>Identity: GetResourceOauth2Token (USER_FEDERATION): authorization URL",
        "Identity->>Cognito: token endpoint",
        "Identity->>Identity: token vaulted",
    ):
        assert arrow in first, arrow
    second = _diagram(lifecycle["out"] / "07_invoke_and_authorize.ipynb")
    assert "You->>Runtime: InvokeAgentRuntime" in second
    assert "GetResourceOauth2Token (USER_FEDERATION): access token" in second
    assert "Browser->>" not in second  # the token was in the vault: no consent this time
    assert _sessions(first).isdisjoint(_sessions(second))  # each run draws its own session


def _sessions(diagram: str) -> set[str]:
    return set(re.findall(r"session (\w+)…", diagram))


def test_no_secret_appears_in_any_executed_notebook(lifecycle):
    secrets = lifecycle["secrets"]
    assert len(secrets) >= 3
    for folder in (lifecycle["first_copy"], lifecycle["out"]):
        for executed in folder.glob("*.ipynb"):
            shown = outputs(executed)
            leaked = [s for s in secrets if s in shown or json.dumps(s)[1:-1] in shown]
            assert not leaked, f"{executed.name} shows a secret"
            assert not TOKEN.search(shown), f"{executed.name} shows a token in full"


def test_the_backends_log_holds_no_code_token_or_secret(lifecycle, separate_emulator):
    """Two runs' worth of consents went through it; their redirects carried codes."""
    log = separate_emulator.log.read_text()
    assert "/identities/oauth2/callback/" in log and "code=***&state=***" in log
    assert not re.search(r"[?&](code|state|request_uri|session_id)=(?!\*\*\*)", log)
    assert not TOKEN.search(log)
    assert not [s for s in lifecycle["secrets"] if s in log]
    assert separate_emulator.log.stat().st_mode & 0o777 == 0o600


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


@pytest.mark.parametrize("path", ORDER, ids=lambda p: p.name)
def test_a_notebook_opens_in_one_line(path):
    """The backend, the state and the vanished-resource check are `workshop.resume`'s."""
    sources = [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    assert not any("resources.check" in source or "state.load" in source for source in sources)


@pytest.mark.parametrize("path", ORDER, ids=lambda p: p.name)
def test_learner_facing_text_names_only_notebooks_that_exist(path):
    names = {notebook.stem for notebook in ORDER}
    text = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells)
    assert set(re.findall(r"\b\d\d_[a-z_]+[a-z]", text)) <= names
    assert not re.search(r"\bseed\b", text, re.I), "the CLI quickstart, not the seed"
