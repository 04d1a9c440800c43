"""IAM on the local backend: a deployed agent acts as its execution role, and the calls it
makes with the role meet the role's policies as on AWS (`emulator/policies.py`).

Contract tests call as a role session of their own (STS AssumeRole, real boto3 clients);
the deployment tests run the workshop's agent, whose role the test narrows for a while.
"""

import copy
import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import boto3
import pytest
import requests
from botocore.exceptions import ClientError

from helpers import cognito, consent, credential_provider, execution_role, runtime
from helpers.errors import WorkshopError
from tests.support import REGION, client, code_artifact, create_runtime, error_of, upload_agent

ACCOUNT = "123456789012"
ARN = f"arn:aws:bedrock-agentcore:{REGION}:{ACCOUNT}"
DIRECTORY = f"{ARN}:workload-identity-directory/default"
VAULT = f"{ARN}:token-vault/default"
MODEL = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
PROFILE = f"arn:aws:bedrock:{REGION}:{ACCOUNT}:inference-profile/{MODEL}"
FOUNDATION_MODEL = f"arn:aws:bedrock:*::foundation-model/{MODEL.removeprefix('us.')}"
CONTAINER = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/agent:latest"
AUTHENTICATED = "✅ Authenticated to external service"  # the quickstart agent's own words


def _allow(actions: list[str], resources: list[str], effect: str = "Allow") -> dict:
    return {"Effect": effect, "Action": actions, "Resource": resources}


def _role(url: str, *statements: dict, name: str | None = None) -> str:
    """A role with ``statements`` as its inline policy; its ARN."""
    iam = client(url, "iam")
    name = name or f"role-{uuid.uuid4().hex[:8]}"
    trust = {"Version": "2012-10-17", "Statement": [_allow(["sts:AssumeRole"], ["*"])]}
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    if statements:
        policy = {"Version": "2012-10-17", "Statement": list(statements)}
        iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    return arn


def _as_role(url: str, role_arn: str, service: str):
    """A ``service`` client signing as a session of ``role_arn`` named "test"."""
    keys = client(url, "sts").assume_role(RoleArn=role_arn, RoleSessionName="test")
    return boto3.client(
        service,
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id=keys["Credentials"]["AccessKeyId"],
        aws_secret_access_key=keys["Credentials"]["SecretAccessKey"],
        aws_session_token=keys["Credentials"]["SessionToken"],
    )


def _not_authorized(role_arn: str, action: str, resource: str) -> str:
    """AWS's words for an action no identity-based policy of the role allows."""
    role = role_arn.rsplit("/", 1)[1]
    return (
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/{role}/test is not authorized to perform: "
        f"{action} on resource: {resource} because no identity-based policy allows the "
        f"{action} action"
    )


@pytest.fixture(scope="module")
def api_key(emulator_url) -> dict:
    """An API-key provider and a workload access token (got as the learner, unevaluated)."""
    control = client(emulator_url, "bedrock-agentcore-control")
    name = f"key-{uuid.uuid4().hex[:8]}"
    provider = control.create_api_key_credential_provider(name=name, apiKey="the-key")
    workload = control.create_workload_identity(name=f"wl-{uuid.uuid4().hex[:8]}")["name"]
    token = client(emulator_url, "bedrock-agentcore").get_workload_access_token(
        workloadName=workload
    )["workloadAccessToken"]
    return {
        "name": name,
        "acps_arn": provider["credentialProviderArn"],
        "workload": workload,
        "token": token,
    }


# AgentCore Identity's data plane


def test_an_api_key_granted_on_the_acps_arn_is_denied(emulator_url, api_key):
    acps = api_key["acps_arn"]
    workload = [DIRECTORY, f"{DIRECTORY}/workload-identity/{api_key['workload']}"]
    old = [*workload, acps.split("/apikeycredentialprovider/")[0], acps]
    role = _role(emulator_url, _allow(["bedrock-agentcore:GetResourceApiKey"], old))
    with pytest.raises(ClientError) as denied:
        _as_role(emulator_url, role, "bedrock-agentcore").get_resource_api_key(
            workloadIdentityToken=api_key["token"], resourceCredentialProviderName=api_key["name"]
        )
    assert error_of(denied) == ("AccessDeniedException", 403)
    action = "bedrock-agentcore:GetResourceApiKey"
    assert denied.value.response["Error"]["Message"] == _not_authorized(role, action, VAULT)


def test_an_api_key_granted_on_the_token_vault_arns_is_served(emulator_url, api_key):
    resources = [
        DIRECTORY,
        f"{DIRECTORY}/workload-identity/{api_key['workload']}",
        VAULT,
        f"{VAULT}/apikeycredentialprovider/{api_key['name']}",
    ]
    role = _role(emulator_url, _allow(["bedrock-agentcore:GetResourceApiKey"], resources))
    answer = _as_role(emulator_url, role, "bedrock-agentcore").get_resource_api_key(
        workloadIdentityToken=api_key["token"], resourceCredentialProviderName=api_key["name"]
    )
    assert answer["apiKey"] == "the-key"


def test_a_workload_access_token_needs_the_directory_and_the_identity(emulator_url, api_key):
    workload = f"{DIRECTORY}/workload-identity/{api_key['workload']}"
    role = _role(emulator_url, _allow(["bedrock-agentcore:GetWorkloadAccessToken"], [workload]))
    with pytest.raises(ClientError) as denied:
        _as_role(emulator_url, role, "bedrock-agentcore").get_workload_access_token(
            workloadName=api_key["workload"]
        )
    action = "bedrock-agentcore:GetWorkloadAccessToken"
    assert denied.value.response["Error"]["Message"] == _not_authorized(role, action, DIRECTORY)


def test_an_explicit_deny_wins_and_says_so(emulator_url, api_key):
    role = _role(
        emulator_url,
        _allow(["bedrock-agentcore:*"], ["*"]),
        _allow(["bedrock-agentcore:GetWorkloadAccessToken"], [f"{DIRECTORY}/*"], "Deny"),
    )
    with pytest.raises(ClientError) as denied:
        _as_role(emulator_url, role, "bedrock-agentcore").get_workload_access_token(
            workloadName=api_key["workload"]
        )
    assert error_of(denied) == ("AccessDeniedException", 403)
    assert denied.value.response["Error"]["Message"].endswith(
        "with an explicit deny in an identity-based policy"
    )


def test_the_learners_own_calls_are_not_evaluated(emulator_url, api_key):
    answer = client(emulator_url, "bedrock-agentcore").get_resource_api_key(
        workloadIdentityToken=api_key["token"], resourceCredentialProviderName=api_key["name"]
    )
    assert answer["apiKey"] == "the-key"


# Bedrock's model calls

CONVERSATION = {"messages": [{"role": "user", "content": [{"text": "hello"}]}]}


def test_a_model_call_needs_invoke_model_on_the_profile_and_the_model(emulator_url):
    role = _role(emulator_url, _allow(["bedrock:InvokeModel"], [PROFILE, FOUNDATION_MODEL]))
    bedrock = _as_role(emulator_url, role, "bedrock-runtime")
    assert bedrock.converse(modelId=MODEL, **CONVERSATION)["stopReason"] == "end_turn"
    assert bedrock.invoke_model(modelId=MODEL, body=b"{}")["contentType"] == "application/json"
    with pytest.raises(ClientError) as streamed:
        bedrock.converse_stream(modelId=MODEL, **CONVERSATION)
    action = "bedrock:InvokeModelWithResponseStream"
    assert streamed.value.response["Error"]["Message"] == _not_authorized(role, action, PROFILE)
    other = "anthropic.claude-3-haiku-20240307-v1:0"
    with pytest.raises(ClientError) as elsewhere:
        bedrock.converse(modelId=other, **CONVERSATION)
    assert error_of(elsewhere) == ("AccessDeniedException", 403)
    model = f"arn:aws:bedrock:{REGION}::foundation-model/{other}"
    assert elsewhere.value.response["Error"]["Message"] == _not_authorized(
        role, "bedrock:InvokeModel", model
    )


# Passing a role to AgentCore Runtime


def test_creating_a_runtime_without_pass_role_fails_at_once_with_the_fix(emulator_url):
    """What a learner without iam:PassRole sees: no retry as if IAM were propagating."""
    learner = _role(emulator_url, _allow(["bedrock-agentcore:*"], ["*"]))
    control = _as_role(emulator_url, learner, "bedrock-agentcore-control")
    execution = _role(emulator_url, name=f"BedrockAgentCoreTest-{uuid.uuid4().hex[:8]}")
    code = upload_agent(emulator_url, "context_agent")

    def create() -> dict:
        return control.create_agent_runtime(
            agentRuntimeName=f"denied_{uuid.uuid4().hex[:8]}",
            agentRuntimeArtifact=code_artifact(code),
            roleArn=execution,
            networkConfiguration={"networkMode": "PUBLIC"},
        )

    calls = []
    with pytest.raises(WorkshopError) as refused:
        runtime._once_the_role_is_assumable(lambda: calls.append(1) or create(), "Deploying")
    assert calls == [1]
    assert refused.value.code == "AccessDeniedException"
    assert refused.value.reason == _not_authorized(learner, "iam:PassRole", execution)
    assert "BedrockAgentCoreFullAccess" in str(refused.value)


def test_the_managed_policys_pass_role_lets_a_bedrock_agentcore_role_through(emulator_url):
    """AWS's BedrockAgentCoreFullAccess: iam:PassRole on *BedrockAgentCore* roles, to us."""
    pass_role = _allow(["iam:PassRole"], ["arn:aws:iam::*:role/*BedrockAgentCore*"])
    pass_role["Condition"] = {
        "StringEquals": {"iam:PassedToService": "bedrock-agentcore.amazonaws.com"}
    }
    learner = _role(emulator_url, _allow(["bedrock-agentcore:*"], ["*"]), pass_role)
    control = _as_role(emulator_url, learner, "bedrock-agentcore-control")
    config = {
        "agentRuntimeArtifact": {"containerConfiguration": {"containerUri": CONTAINER}},
        "networkConfiguration": {"networkMode": "PUBLIC"},
    }
    allowed = _role(emulator_url, name=f"BedrockAgentCoreTest-{uuid.uuid4().hex[:8]}")
    other = _role(emulator_url, name=f"SomeOtherRole-{uuid.uuid4().hex[:8]}")
    with pytest.raises(ClientError) as passed:  # past IAM, refused for the container
        control.create_agent_runtime(agentRuntimeName="passed", roleArn=allowed, **config)
    assert error_of(passed) == ("ValidationException", 400)
    with pytest.raises(ClientError) as refused:
        control.create_agent_runtime(agentRuntimeName="refused", roleArn=other, **config)
    assert error_of(refused) == ("AccessDeniedException", 403)


# The agent's credentials


@pytest.mark.parametrize(
    "variables",
    [{}, {"OTEL_SERVICE_NAME": "started-afresh"}],
    ids=["forked", "started afresh"],
)
def test_an_agent_holds_a_session_of_its_execution_role(emulator_url, context_code, variables):
    agent = create_runtime(emulator_url, context_code, environmentVariables=variables)
    answer = client(emulator_url, "bedrock-agentcore").invoke_agent_runtime(
        agentRuntimeArn=agent["agentRuntimeArn"], payload=b"{}"
    )
    seen = json.loads(answer["response"].read())["process"]
    emulator = requests.get(f"{emulator_url}/_emulator/health", timeout=5).json()
    assert (seen["parent"] == emulator["pid"]) == bool(variables)  # the path under test
    environ = seen["environ"]
    who = boto3.client(
        "sts",
        endpoint_url=emulator_url,
        region_name=REGION,
        aws_access_key_id=environ["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=environ["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=environ["AWS_SESSION_TOKEN"],
    ).get_caller_identity()
    role = agent["roleArn"].rsplit("/", 1)[1]
    assert who["Arn"].startswith(f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/")


# The workshop's agent, deployed with its role


@contextmanager
def _role_policy_changed(be, ws, change: Callable[[dict], None]) -> Iterator[None]:
    """The shared agent's role with ``change`` made to its policy, then as it was."""
    iam, name = be.client("iam"), ws.get("execution_role")["name"]
    policy_name = execution_role.POLICY_NAME
    original = iam.get_role_policy(RoleName=name, PolicyName=policy_name)["PolicyDocument"]
    changed = copy.deepcopy(original)
    change(changed)
    iam.put_role_policy(RoleName=name, PolicyName=policy_name, PolicyDocument=json.dumps(changed))
    try:
        yield
    finally:
        iam.put_role_policy(
            RoleName=name, PolicyName=policy_name, PolicyDocument=json.dumps(original)
        )


def _statement(policy: dict, sid: str) -> dict:
    return next(s for s in policy["Statement"] if s["Sid"] == sid)


def _ask(be, agent, bearer: str, session: str):
    return runtime.invoke(be, agent.arn, bearer, session, {"prompt": "Check the external service"})


def test_the_old_policy_form_denies_the_agent_the_users_token(deployment):
    """Before the fix the role named the provider by the ARN the API answers (`acps`)."""
    be, ws, pools, agent, _ = deployment
    provider = credential_provider.recorded_credential_provider(be, ws)

    def old_form(policy: dict) -> None:
        tokens = _statement(policy, "UserTokens")
        workloads = [r for r in tokens["Resource"] if "workload-identity" in r]
        vault = provider.arn.split("/oauth2credentialprovider/")[0]
        tokens["Resource"] = [*workloads, vault, provider.arn]

    bearer = cognito.bearer_token(be, pools.runtime)
    with _role_policy_changed(be, ws, old_form):
        answer = json.dumps(_ask(be, agent, bearer, runtime.new_session_id()))
    role = f"{be.account}:assumed-role/{ws.get('execution_role')['name']}/"
    assert "AccessDeniedException" in answer
    assert role in answer
    assert (
        "is not authorized to perform: bedrock-agentcore:GetResourceOauth2Token on resource: "
        f"{VAULT} because no identity-based policy allows" in answer
    )


def test_with_the_workshop_role_the_consent_flow_works(deployment):
    be, _, pools, agent, binding_url = deployment
    bearer = cognito.bearer_token(be, pools.runtime)
    session = runtime.new_session_id()
    link = consent.authorization_url_in(_ask(be, agent, bearer, session))
    assert link is not None
    trip = consent.sign_in_headlessly(link, pools.identity, stop_at=binding_url)
    consent.complete(be, trip.final_url, bearer)
    assert AUTHENTICATED in _ask(be, agent, bearer, session)["response"]


def test_without_invoke_model_the_agents_model_call_is_denied(deployment):
    be, ws, pools, agent, _ = deployment

    def no_model(policy: dict) -> None:
        policy["Statement"].remove(_statement(policy, "Model"))

    bearer = cognito.bearer_token(be, pools.runtime)
    with _role_policy_changed(be, ws, no_model), pytest.raises(WorkshopError, match="424"):
        _ask(be, agent, bearer, runtime.new_session_id())
    log = "\n".join(runtime.logs(be, agent.id, limit=200))
    assert "is not authorized to perform: bedrock:InvokeModelWithResponseStream" in log
    assert f"inference-profile/{MODEL}" in log
