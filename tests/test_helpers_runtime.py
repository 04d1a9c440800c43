"""Quickstart steps 4 and 7 through the helpers: authorizer, role, package, deploy, invoke."""

import zipfile

import pytest

from helpers import backend, cognito, identity, runtime, state
from helpers.backend import Backend
from helpers.errors import WorkshopError
from tests.conftest import AGENTS, deploy_agent, free_port

LOCAL = Backend("local", "us-east-1")


@pytest.fixture
def connected(workshop):
    be = backend.connect("local", "us-east-1")
    ws = state.load(be)
    pools = cognito.setup(be, ws)
    return be, ws, pools, identity.create_credential_provider(be, ws, pools)


@pytest.fixture
def context_agent(tmp_path):
    """A source folder holding the test agent that reports its context, as agent.py."""
    source = tmp_path / "context-agent"
    source.mkdir()
    (source / "agent.py").write_text((AGENTS / "context_agent.py").read_text())
    (source / "requirements.txt").write_text("bedrock-agentcore\n")
    return source


def test_the_package_never_holds_state_or_credentials(tmp_path):
    source = tmp_path / "agent"
    for name in (
        "agent.py",
        "requirements.txt",
        "tools/lookup.py",
        ".agentcore.json",
        ".agentcore_identity_user.env",
        ".agentcore_identity_cognito_user.json",
        ".env",
        "tools/.env",
        "prod.env",
        ".bedrock_agentcore.yaml",
        ".workshop/state.json",
        "__pycache__/agent.cpython-311.pyc",
    ):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_text("x")
    archive = runtime.package(LOCAL, source, tmp_path / "agent.zip")
    assert sorted(runtime.contents(archive)) == ["agent.py", "requirements.txt", "tools/lookup.py"]


def test_the_workshop_agent_package(tmp_path):
    archive = runtime.package(LOCAL, out=tmp_path / "agent.zip")
    assert sorted(runtime.contents(archive)) == ["agent.py", "requirements.txt"]


def _wheel(folder, name: str) -> None:
    """A minimal pure-Python wheel, so bundling can be tested with no index."""
    info = f"{name}-1.0.dist-info"
    with zipfile.ZipFile(folder / f"{name}-1.0-py3-none-any.whl", "w") as wheel:
        wheel.writestr(f"{name}/__init__.py", "VALUE = 1\n")
        wheel.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
        wheel.writestr(
            f"{info}/WHEEL",
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        )
        wheel.writestr(f"{info}/RECORD", "")


def test_an_aws_package_bundles_dependencies_and_caches_them(tmp_path, monkeypatch):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    _wheel(wheels, "tinydep")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    monkeypatch.setenv("WORKSHOP_DIR", str(tmp_path))
    source = tmp_path / "agent"
    source.mkdir()
    (source / "agent.py").write_text("print('hi')\n")
    (source / "requirements.txt").write_text("tinydep\n")
    aws = Backend("aws", "us-east-1")
    first = set(runtime.contents(runtime.package(aws, source, tmp_path / "a.zip")))
    assert {"agent.py", "requirements.txt", "tinydep/__init__.py"} <= first
    (wheels / "tinydep-1.0-py3-none-any.whl").unlink()  # a second build must not need pip
    assert set(runtime.contents(runtime.package(aws, source, tmp_path / "b.zip"))) == first


def test_a_dependency_that_cannot_be_installed_is_explained(tmp_path, monkeypatch):
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("WORKSHOP_DIR", str(tmp_path))
    source = tmp_path / "agent"
    source.mkdir()
    (source / "requirements.txt").write_text("no-such-package-for-the-workshop\n")
    with pytest.raises(WorkshopError, match="Installing the agent's dependencies failed"):
        runtime.package(Backend("aws", "us-east-1"), source, tmp_path / "a.zip")


def test_the_authorizer_takes_the_access_token_not_the_id_token(connected):
    be, _, pools, _ = connected
    authorizer = runtime.jwt_authorizer(pools.runtime)
    signed_in = cognito.sign_in(be, pools.runtime)
    assert {
        row["Passes"] for row in runtime.authorizer_checks(authorizer, signed_in["AccessToken"])
    } == {"yes"}
    id_rows = runtime.authorizer_checks(authorizer, signed_in["IdToken"])
    assert [row["Check"] for row in id_rows if row["Passes"] == "no"] == ["claim client_id"]


def test_the_execution_role_may_do_only_what_the_agent_needs(connected):
    be, ws, _, provider = connected
    role = runtime.execution_role(be, ws, provider)
    iam = be.client("iam")
    trust = iam.get_role(RoleName=role["name"])["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"] == {"Service": "bedrock-agentcore.amazonaws.com"}
    statements = {s["Sid"]: s for s in role["policy"]["Statement"]}
    assert statements["ProviderSecret"]["Resource"] == [provider.secret_arn]
    assert provider.arn in statements["UserTokens"]["Resource"]
    unscoped = [sid for sid, s in statements.items() if "*" in s["Resource"]]
    assert unscoped == ["Traces"]  # X-Ray has no resource-level permissions
    stored = iam.get_role_policy(RoleName=role["name"], PolicyName="AgentCoreIdentityAgent")
    assert stored["PolicyDocument"] == role["policy"]
    assert runtime.execution_role(be, state.load(be), provider)["arn"] == role["arn"]


def test_deploy_invoke_and_read_the_log(connected, context_agent, tmp_path):
    be, ws, pools, provider = connected
    deployed = deploy_agent(be, ws, pools, provider, context_agent)
    assert deployed.status == "READY"
    assert deployed.workload_identity == deployed.id
    session = runtime.new_session_id()
    context = runtime.invoke(
        be, deployed.arn, cognito.bearer_token(be, pools.runtime), session, {"prompt": "hi"}
    )
    assert context["session_id"] == session
    assert context["workload_access_token"]
    events = runtime.invoke(
        be, deployed.arn, cognito.bearer_token(be, pools.runtime), session, {"stream": True}
    )
    assert events[:2] == [{"part": 1}, {"part": 2}]
    assert "context agent invoked: ['prompt']" in runtime.logs(be, deployed.id)


def test_deploying_again_makes_a_new_version(connected, context_agent, tmp_path):
    be, ws, pools, provider = connected
    first = deploy_agent(be, ws, pools, provider, context_agent)
    second = deploy_agent(be, state.load(be), pools, provider, context_agent)
    assert (second.id, second.version) == (first.id, "2")
    assert [e["kind"] for e in state.load(be).ledger.values()].count("agent-runtime") == 1


def test_refusals_are_explained(connected, context_agent, tmp_path):
    be, ws, pools, provider = connected
    deployed = deploy_agent(be, ws, pools, provider, context_agent)
    id_token = cognito.sign_in(be, pools.runtime)["IdToken"]
    with pytest.raises(WorkshopError, match=r"(?s)401.*client_id.*JWT authorizer refused"):
        runtime.invoke(be, deployed.arn, id_token, runtime.new_session_id(), {})
    with pytest.raises(WorkshopError, match="400"):
        runtime.invoke(be, deployed.arn, id_token, "too-short", {})


def test_an_agent_that_cannot_start_is_explained(connected, tmp_path):
    be, ws, pools, provider = connected
    source = tmp_path / "broken"
    source.mkdir()
    (source / "agent.py").write_text((AGENTS / "broken_agent.py").read_text())
    with pytest.raises(WorkshopError, match=r"(?s)CREATE_FAILED.*no_such_module_for_the_workshop"):
        deploy_agent(be, ws, pools, provider, source)


def test_the_session_binding_url_is_chosen_once(connected):
    be, ws, _, _ = connected
    url = identity.session_binding_url(ws)
    assert url.startswith("http://127.0.0.1:") and url.endswith("/oauth2/callback")
    assert identity.session_binding_url(state.load(be)) == url


def test_the_session_binding_port_can_be_chosen(workshop, monkeypatch):
    port = free_port()
    monkeypatch.setenv("SESSION_BINDING_PORT", str(port))
    ws = state.load(backend.connect("local", "us-east-1"))
    assert identity.session_binding_url(ws) == f"http://127.0.0.1:{port}/oauth2/callback"
