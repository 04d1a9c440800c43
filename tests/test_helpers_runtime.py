"""Quickstart steps 4 and 7 through the helpers: authorizer, role, package, deploy, invoke."""

import fnmatch
import json
import re
import sys
import zipfile

import pytest
from botocore.exceptions import ClientError

from helpers import (
    authorizer,
    cognito,
    credential_provider,
    execution_role,
    model,
    packaging,
    runtime,
    state,
)
from helpers.backend import Backend
from helpers.errors import WorkshopError
from helpers.paths import REPOSITORY
from tests.support import AGENTS, deploy_agent

LOCAL = Backend("local", "us-east-1")


@pytest.fixture
def provider(backend_and_state, pools):
    """Notebook 04: the credential provider the agent's role is scoped to."""
    return credential_provider.ensure_credential_provider(*backend_and_state, pools)


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
    archive = packaging.package(LOCAL, source, tmp_path / "agent.zip")
    assert sorted(packaging.contents(archive)) == [
        "agent.py",
        "requirements.txt",
        "tools/lookup.py",
    ]


def test_the_workshop_agent_package(tmp_path):
    archive = packaging.package(LOCAL, out=tmp_path / "agent.zip")
    assert sorted(packaging.contents(archive)) == [
        "agent.py",
        "machine_agent.py",
        "requirements.txt",
        "two_services_agent.py",
    ]


def _wheel(folder, name: str, version: str = "1.0", script: str | None = None) -> None:
    """A minimal pure-Python wheel, so bundling can be tested with no index; ``script``
    names a console script, which pip writes to the target's bin/."""
    info = f"{name}-{version}.dist-info"
    with zipfile.ZipFile(folder / f"{name}-{version}-py3-none-any.whl", "w") as wheel:
        wheel.writestr(f"{name}/__init__.py", "VALUE = 1\n\ndef main():\n    pass\n")
        wheel.writestr(
            f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        )
        wheel.writestr(
            f"{info}/WHEEL",
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        )
        if script:
            scripts = f"[console_scripts]\n{script} = {name}:main\n"
            wheel.writestr(f"{info}/entry_points.txt", scripts)
        wheel.writestr(f"{info}/RECORD", "")


@pytest.fixture
def offline_index(tmp_path, monkeypatch):
    """A folder of wheels that pip takes as its only index; builds go to tmp_path."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    monkeypatch.setenv("WORKSHOP_DIR", str(tmp_path))
    return wheels


def _agent_needing(folder, requirements: str):
    source = folder / "agent"
    source.mkdir()
    (source / "agent.py").write_text("print('hi')\n")
    (source / "requirements.txt").write_text(requirements)
    return source


def test_an_aws_package_bundles_dependencies_and_caches_them(tmp_path, offline_index):
    _wheel(offline_index, "tinydep")
    source = _agent_needing(tmp_path, "tinydep\n")
    aws = Backend("aws", "us-east-1")
    first = set(packaging.contents(packaging.package(aws, source, tmp_path / "a.zip")))
    assert {"agent.py", "requirements.txt", "tinydep/__init__.py"} <= first
    (offline_index / "tinydep-1.0-py3-none-any.whl").unlink()  # a second build must not need pip
    assert set(packaging.contents(packaging.package(aws, source, tmp_path / "b.zip"))) == first


def test_an_aws_package_holds_the_locked_versions_and_no_path_of_this_machine(
    tmp_path, offline_index
):
    """requirements.lock picks the version (not the newest), and pip's console scripts,
    whose shebang names this interpreter, stay out: no file names where it was built."""
    locked = re.search(r"^strands-agents==(\S+)", packaging.LOCK.read_text(), re.M)[1]
    _wheel(offline_index, "strands_agents", locked, script="strands-tool")
    _wheel(offline_index, "strands_agents", "999.0", script="strands-tool")
    source = _agent_needing(tmp_path, "strands-agents\n")
    archive = packaging.package(Backend("aws", "us-east-1"), source, tmp_path / "a.zip")
    with zipfile.ZipFile(archive) as opened:
        files = {name: opened.read(name) for name in opened.namelist()}
    assert f"Version: {locked}" in files[f"strands_agents-{locked}.dist-info/METADATA"].decode()
    assert [name for name in files if name.startswith("bin/")] == []
    here = {sys.prefix, sys.base_prefix, sys.executable, str(REPOSITORY), str(tmp_path)}
    assert [(name, p) for name, text in files.items() for p in here if p.encode() in text] == []


def test_a_dependency_that_cannot_be_installed_is_explained(tmp_path, offline_index):
    source = _agent_needing(tmp_path, "no-such-package-for-the-workshop\n")
    with pytest.raises(WorkshopError, match="Installing the agent's dependencies failed"):
        packaging.package(Backend("aws", "us-east-1"), source, tmp_path / "a.zip")


def test_the_authorizer_takes_the_access_token_not_the_id_token(backend_and_state, pools):
    be, _ = backend_and_state
    config = authorizer.jwt_authorizer(pools.runtime)
    signed_in = cognito.sign_in(be, pools.runtime)
    access_rows = authorizer.checks(be, config, signed_in["AccessToken"]).rows
    assert {row["Passes"] for row in access_rows} == {"yes"}
    id_rows = authorizer.checks(be, config, signed_in["IdToken"]).rows
    assert [row["Check"] for row in id_rows if row["Passes"] == "no"] == ["claim client_id"]


def test_the_execution_role_may_do_only_what_the_agent_needs(backend_and_state, provider):
    be, ws = backend_and_state
    model_id = model.model_id(be.region)
    role = execution_role.ensure_execution_role(be, ws, provider, model_id)
    iam = be.client("iam")
    trust = iam.get_role(RoleName=role.name)["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"] == {"Service": "bedrock-agentcore.amazonaws.com"}
    statements = {s["Sid"]: s for s in role.policy["Statement"]}
    assert statements["ProviderSecret"]["Resource"] == [provider.secret_arn]
    # The token vault as IAM names it, never the acps ARN the API answers with.
    vault = f"arn:aws:bedrock-agentcore:{be.region}:{be.account}:token-vault/default"
    assert statements["UserTokens"]["Resource"][-2:] == [
        vault,
        f"{vault}/oauth2credentialprovider/{provider.name}",
    ]
    assert provider.arn not in json.dumps(role.policy)
    unscoped = {sid: s.get("Condition") for sid, s in statements.items() if "*" in s["Resource"]}
    assert unscoped == {  # X-Ray and Marketplace have no resource-level permissions
        "Traces": None,
        "MarketplaceSubscribeOnFirstCall": {
            "StringEquals": {"aws:CalledViaLast": "bedrock.amazonaws.com"}
        },
    }
    logs = {action for s in statements.values() for action in s["Action"] if "logs:" in action}
    assert {"logs:DescribeLogStreams", "logs:DescribeLogGroups"} <= logs
    stored = iam.get_role_policy(RoleName=role.name, PolicyName="AgentCoreIdentityAgent")
    assert stored["PolicyDocument"] == role.policy
    again = execution_role.ensure_execution_role(be, state.load(be), provider, model_id)
    assert again.arn == role.arn


def test_every_role_is_one_the_managed_policy_lets_a_learner_pass(backend_and_state):
    """BedrockAgentCoreFullAccess allows iam:PassRole on roles named *BedrockAgentCore*."""
    _, ws = backend_and_state
    for purpose in ("Runtime", "Machine", "Services"):
        name = execution_role.role_name(purpose, ws)
        assert fnmatch.fnmatchcase(name, "*BedrockAgentCore*")
        assert len(name) <= 64  # IAM's limit


def test_deploy_invoke_and_read_the_log(backend_and_state, pools, provider, context_agent):
    be, ws = backend_and_state
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


def test_deploying_again_makes_a_new_version(backend_and_state, pools, provider, context_agent):
    be, ws = backend_and_state
    first = deploy_agent(be, ws, pools, provider, context_agent)
    second = deploy_agent(be, state.load(be), pools, provider, context_agent)
    assert (second.id, second.version) == (first.id, "2")
    assert [e["kind"] for e in state.load(be).ledger.values()].count("agent-runtime") == 1


def test_refusals_are_explained(backend_and_state, pools, provider, context_agent):
    be, ws = backend_and_state
    deployed = deploy_agent(be, ws, pools, provider, context_agent)
    id_token = cognito.sign_in(be, pools.runtime)["IdToken"]
    with pytest.raises(WorkshopError, match=r"(?s)401.*client_id.*JWT authorizer refused"):
        runtime.invoke(be, deployed.arn, id_token, runtime.new_session_id(), {})
    with pytest.raises(WorkshopError, match="400"):
        runtime.invoke(be, deployed.arn, id_token, "too-short", {})


def test_an_agent_that_cannot_start_is_explained(backend_and_state, pools, provider, tmp_path):
    be, ws = backend_and_state
    source = tmp_path / "broken"
    source.mkdir()
    (source / "agent.py").write_text((AGENTS / "broken_agent.py").read_text())
    with pytest.raises(WorkshopError, match=r"(?s)CREATE_FAILED.*no_such_module_for_the_workshop"):
        deploy_agent(be, ws, pools, provider, source)


def test_the_runtimes_workload_identity_is_read_once_it_is_ready(
    backend_and_state, context_code, tmp_path
):
    """GetAgentRuntime may leave workloadIdentityDetails out while CREATING (the local
    runtime does): the agent starts slowly here, so the deploy answers before READY."""
    be, ws = backend_and_state
    pause = tmp_path / "start-pause"
    pause.write_text("2")
    created = runtime.ensure_runtime(
        be,
        ws,
        role_arn="arn:aws:iam::123456789012:role/test-runtime",
        code=context_code,
        authorizer=None,
        environment={"START_PAUSE": str(pause)},
        entry_point="main.py",
    )
    assert (created.status, created.workload_identity) == ("CREATING", None)
    ready = runtime.wait_until_ready(be, created.id)
    assert ready.workload_identity == created.id
    be.client("bedrock-agentcore-control").delete_agent_runtime(agentRuntimeId=created.id)


def test_deploying_waits_while_the_new_role_is_not_yet_assumable(monkeypatch):
    monkeypatch.setattr(runtime, "ROLE_RETRY_INTERVAL", 0.01)
    refusals = [
        ClientError(
            {"Error": {"Code": "ValidationException", "Message": "Role validation failed"}},
            "CreateAgentRuntime",
        )
    ] * 2
    answers = iter([*refusals, {"agentRuntimeId": "x"}])

    def call() -> dict:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert runtime._once_the_role_is_assumable(call, "Deploying") == {"agentRuntimeId": "x"}


def test_other_refusals_while_deploying_are_not_retried():
    def call() -> dict:
        raise ClientError(
            {"Error": {"Code": "ValidationException", "Message": "Bad entryPoint"}},
            "CreateAgentRuntime",
        )

    with pytest.raises(WorkshopError) as error:
        runtime._once_the_role_is_assumable(call, "Deploying")
    assert error.value.code == "ValidationException"
