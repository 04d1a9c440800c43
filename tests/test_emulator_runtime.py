"""AgentCore Runtime on the local backend: boto3 for the control plane, raw HTTPS with a
bearer token (and boto3 SigV4) for invocations, a test agent that reports its context."""

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests
from bedrock_agentcore.runtime import models as sdk
from bedrock_agentcore.runtime.models import SESSION_HEADER
from botocore.exceptions import ClientError

from emulator.runtime import invocations
from helpers import runtime
from tests.support import (
    client,
    create_runtime,
    error_of,
    from_an_unknown_issuer,
    http_error_of,
    invoke_with_bearer,
    listed,
    pool_with_user,
    process_alive,
    quickstart_authorizer,
    signed_with_motos_published_key,
    start_emulator_process,
    upload_agent,
    with_tampered_payload,
)

# An emulator whose fork server dies as it imports.
BROKEN_FORK_SERVER = """
from emulator.runtime import process
process.PRELOAD.append("broken_preload")
from emulator.server import serve
serve(0)
"""


def _agent_answer(url: str, runtime: dict) -> dict:
    """What the runtime's context agent reports of itself (invoked with SigV4)."""
    answer = client(url, "bedrock-agentcore").invoke_agent_runtime(
        agentRuntimeArn=runtime["agentRuntimeArn"], payload=b"{}"
    )
    return json.loads(answer["response"].read())


def _agent_pid(url: str, runtime: dict) -> int:
    return _agent_answer(url, runtime)["pid"]


@pytest.fixture(scope="module")
def jwt_runtime(emulator_url, pool, context_code):
    return create_runtime(
        emulator_url,
        context_code,
        authorizerConfiguration=quickstart_authorizer(pool),
        requestHeaderConfiguration={"requestHeaderAllowlist": ["Authorization"]},
        environmentVariables={"GREETING": "hello"},
    )


@pytest.fixture(scope="module")
def sigv4_runtime(emulator_url, context_code):
    return create_runtime(emulator_url, context_code)


# Control plane


def test_a_runtime_is_ready_with_aws_shaped_ids(jwt_runtime):
    assert jwt_runtime["status"] == "READY"
    assert re.fullmatch(r"test_[0-9a-f]{10}-[A-Za-z0-9]{10}", jwt_runtime["agentRuntimeId"])
    assert re.fullmatch(
        r"arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/"
        + jwt_runtime["agentRuntimeId"],
        jwt_runtime["agentRuntimeArn"],
    )
    assert jwt_runtime["agentRuntimeVersion"] == "1"
    assert jwt_runtime["environmentVariables"] == {"GREETING": "hello"}


def test_the_runtime_owns_a_workload_identity_named_after_it(emulator_url, jwt_runtime):
    control = client(emulator_url, "bedrock-agentcore-control")
    arn = jwt_runtime["workloadIdentityDetails"]["workloadIdentityArn"]
    name = arn.rsplit("/", 1)[1]
    assert name == jwt_runtime["agentRuntimeId"]
    control.update_workload_identity(
        name=name, allowedResourceOauth2ReturnUrls=["http://127.0.0.1:1/cb"]
    )
    assert control.get_workload_identity(name=name)["allowedResourceOauth2ReturnUrls"] == [
        "http://127.0.0.1:1/cb"
    ]
    with pytest.raises(ClientError) as error:
        client(emulator_url, "bedrock-agentcore").get_workload_access_token(workloadName=name)
    assert "linked to a service" in error.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as error:
        control.delete_workload_identity(name=name)
    assert "cannot be deleted by the caller" in error.value.response["Error"]["Message"]


def test_the_default_endpoint_serves_the_newest_version(emulator_url, context_code, tmp_path):
    runtime = create_runtime(emulator_url, context_code)
    control = client(emulator_url, "bedrock-agentcore-control")
    pause = tmp_path / "start-pause"  # version two starts a second late: long enough to see
    pause.write_text("1")
    control.update_agent_runtime(
        agentRuntimeId=runtime["agentRuntimeId"],
        agentRuntimeArtifact=runtime["agentRuntimeArtifact"],
        roleArn=runtime["roleArn"],
        networkConfiguration={"networkMode": "PUBLIC"},
        environmentVariables={"GREETING": "version two", "START_PAUSE": str(pause)},
    )
    endpoint = control.get_agent_runtime_endpoint(
        agentRuntimeId=runtime["agentRuntimeId"], endpointName="DEFAULT"
    )
    assert (endpoint["status"], endpoint["targetVersion"]) == ("UPDATING", "2")
    while endpoint["status"] == "UPDATING":  # version 1 serves until version 2 is up
        assert endpoint["liveVersion"] == "1"
        time.sleep(0.1)
        endpoint = control.get_agent_runtime_endpoint(
            agentRuntimeId=runtime["agentRuntimeId"], endpointName="DEFAULT"
        )
    assert (endpoint["status"], endpoint["liveVersion"]) == ("READY", "2")
    assert endpoint["agentRuntimeEndpointArn"].endswith("/runtime-endpoint/DEFAULT")
    endpoints = control.list_agent_runtime_endpoints(agentRuntimeId=runtime["agentRuntimeId"])
    assert [e["name"] for e in endpoints["runtimeEndpoints"]] == ["DEFAULT"]
    versions = control.list_agent_runtime_versions(agentRuntimeId=runtime["agentRuntimeId"])
    assert [v["agentRuntimeVersion"] for v in versions["agentRuntimes"]] == ["2", "1"]
    ids = [r["agentRuntimeId"] for r in listed(control, "list_agent_runtimes", "agentRuntimes")]
    assert runtime["agentRuntimeId"] in ids


def test_a_name_in_use_is_a_conflict(emulator_url, jwt_runtime, context_code):
    control = client(emulator_url, "bedrock-agentcore-control")
    with pytest.raises(ClientError) as error:
        control.create_agent_runtime(
            agentRuntimeName=jwt_runtime["agentRuntimeName"],
            agentRuntimeArtifact=jwt_runtime["agentRuntimeArtifact"],
            roleArn=jwt_runtime["roleArn"],
            networkConfiguration={"networkMode": "PUBLIC"},
        )
    assert error_of(error) == ("ConflictException", 409)


def test_a_container_image_is_refused_with_a_reason(emulator_url):
    control = client(emulator_url, "bedrock-agentcore-control")
    with pytest.raises(ClientError) as error:
        control.create_agent_runtime(
            agentRuntimeName="container_agent",
            agentRuntimeArtifact={
                "containerConfiguration": {
                    "containerUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/agent:latest"
                }
            },
            roleArn="arn:aws:iam::123456789012:role/test-runtime",
            networkConfiguration={"networkMode": "PUBLIC"},
        )
    assert error_of(error) == ("ValidationException", 400)
    assert "code deployments only" in error.value.response["Error"]["Message"]


def test_an_agent_that_cannot_start_fails_with_its_error(emulator_url):
    runtime = create_runtime(emulator_url, upload_agent(emulator_url, "broken_agent"))
    assert runtime["status"] == "CREATE_FAILED"
    assert "ModuleNotFoundError" in runtime["failureReason"]
    assert "no_such_module_for_the_workshop" in runtime["failureReason"]


def test_a_missing_code_artifact_fails_with_its_location(emulator_url):
    runtime = create_runtime(emulator_url, {"bucket": "no-such-bucket", "prefix": "agent.zip"})
    assert runtime["status"] == "CREATE_FAILED"
    assert "s3://no-such-bucket/agent.zip" in runtime["failureReason"]


# Invocations


def test_a_bearer_invocation_reaches_the_agent_with_its_context(emulator_url, jwt_runtime, pool):
    session = "s" * 40
    answer = invoke_with_bearer(
        emulator_url, jwt_runtime, {"prompt": "hi"}, token=pool["access_token"], session=session
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers[SESSION_HEADER] == session
    context = answer.json()
    assert context["workload_access_token"]
    assert context["session_id"] == session
    assert uuid.UUID(context["request_id"])
    assert context["headers"]["Authorization"] == f"Bearer {pool['access_token']}"
    assert context["environment"] == {
        "DOCKER_CONTAINER": "1",
        "GREETING": "hello",
        "AWS_REGION": "us-east-1",
    }


def test_the_workload_access_token_is_for_this_runtime_and_user(emulator_url, jwt_runtime, pool):
    first = invoke_with_bearer(emulator_url, jwt_runtime, {}, token=pool["access_token"]).json()
    api_keys = client(emulator_url, "bedrock-agentcore-control")
    api_keys.create_api_key_credential_provider(name="runtime-test-key", apiKey="the-key")
    key = client(emulator_url, "bedrock-agentcore").get_resource_api_key(
        workloadIdentityToken=first["workload_access_token"],
        resourceCredentialProviderName="runtime-test-key",
    )
    assert key["apiKey"] == "the-key"


def test_a_streaming_answer_is_relayed_as_server_sent_events(emulator_url, jwt_runtime, pool):
    answer = invoke_with_bearer(
        emulator_url, jwt_runtime, {"stream": True}, token=pool["access_token"]
    )
    assert answer.headers["Content-Type"].startswith("text/event-stream")
    events = [
        json.loads(line[6:]) for line in answer.text.splitlines() if line.startswith("data: ")
    ]
    assert events[:2] == [{"part": 1}, {"part": 2}]
    assert events[2]["workload_access_token"]


def test_tokens_the_authorizer_must_refuse(emulator_url, jwt_runtime, pool):
    other_client = pool_with_user(emulator_url)
    refused = {
        "missing": None,
        "tampered": with_tampered_payload(pool["access_token"]),
        "foreign key": signed_with_motos_published_key(pool["access_token"]),
        "another pool": other_client["access_token"],
        "unknown issuer": from_an_unknown_issuer(pool["access_token"]),
    }
    for case, token in refused.items():
        answer = invoke_with_bearer(emulator_url, jwt_runtime, {}, token=token)
        assert answer.status_code == 401, case
        assert answer.headers["x-amzn-ErrorType"] == "UnauthorizedException", case


def test_an_id_token_or_another_client_is_a_client_id_mismatch(emulator_url, jwt_runtime, pool):
    cognito = client(emulator_url, "cognito-idp")
    second = cognito.create_user_pool_client(
        UserPoolId=pool["id"], ClientName="other", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]
    other_client_token = cognito.initiate_auth(
        ClientId=second,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "alice", "PASSWORD": "Passw0rd!=*"},
    )["AuthenticationResult"]["AccessToken"]
    for token in (pool["id_token"], other_client_token):
        answer = invoke_with_bearer(emulator_url, jwt_runtime, {}, token=token)
        assert http_error_of(answer) == (
            401,
            "UnauthorizedException",
            "Claim 'client_id' value mismatch with configuration.",
        )


def test_a_session_id_shorter_than_33_characters_is_refused(emulator_url, jwt_runtime, pool):
    answer = invoke_with_bearer(
        emulator_url, jwt_runtime, {}, token=pool["access_token"], session="x" * 32
    )
    assert http_error_of(answer)[:2] == (400, "ValidationException")


def test_sigv4_on_a_jwt_runtime_is_a_method_mismatch(emulator_url, jwt_runtime):
    with pytest.raises(ClientError) as error:
        client(emulator_url, "bedrock-agentcore").invoke_agent_runtime(
            agentRuntimeArn=jwt_runtime["agentRuntimeArn"], payload=b"{}"
        )
    assert error_of(error) == ("AccessDeniedException", 403)
    assert "Authorization method mismatch" in error.value.response["Error"]["Message"]


def test_sigv4_invokes_a_runtime_without_an_authorizer(emulator_url, sigv4_runtime):
    dataplane = client(emulator_url, "bedrock-agentcore")
    answer = dataplane.invoke_agent_runtime(
        agentRuntimeArn=sigv4_runtime["agentRuntimeArn"],
        payload=json.dumps({"prompt": "hi"}).encode(),
        contentType="application/json",
        runtimeUserId="alice",
    )
    context = json.loads(answer["response"].read())
    assert context["workload_access_token"]
    assert context["session_id"] == answer["runtimeSessionId"]
    assert "Authorization" not in context["headers"]
    anonymous = dataplane.invoke_agent_runtime(
        agentRuntimeArn=sigv4_runtime["agentRuntimeArn"], payload=b"{}"
    )
    assert json.loads(anonymous["response"].read())["workload_access_token"] is None


def test_a_bearer_token_on_a_sigv4_runtime_is_a_method_mismatch(emulator_url, sigv4_runtime, pool):
    answer = invoke_with_bearer(emulator_url, sigv4_runtime, {}, token=pool["access_token"])
    assert http_error_of(answer)[:2] == (403, "AccessDeniedException")


def test_an_unknown_runtime_is_not_found(emulator_url, jwt_runtime, pool):
    unknown = {**jwt_runtime, "agentRuntimeArn": jwt_runtime["agentRuntimeArn"][:-3] + "xyz"}
    assert (
        invoke_with_bearer(emulator_url, unknown, {}, token=pool["access_token"]).status_code == 404
    )


def test_the_agents_output_is_the_runtimes_log(emulator_url, jwt_runtime, pool):
    invoke_with_bearer(emulator_url, jwt_runtime, {"prompt": "log me"}, token=pool["access_token"])
    events = client(emulator_url, "logs").filter_log_events(
        logGroupName=f"/aws/bedrock-agentcore/runtimes/{jwt_runtime['agentRuntimeId']}-DEFAULT"
    )["events"]
    assert "context agent invoked: ['prompt']" in [event["message"] for event in events]


def test_a_crashing_agent_is_a_runtime_client_error(emulator_url, pool, context_code):
    runtime = create_runtime(
        emulator_url,
        context_code,
        authorizerConfiguration=quickstart_authorizer(pool),
    )
    for _ in range(2):  # the crash itself, then a fresh agent that crashes as well
        answer = invoke_with_bearer(
            emulator_url, runtime, {"crash": True}, token=pool["access_token"]
        )
        assert http_error_of(answer)[:2] == (424, "RuntimeClientError")


def test_deleting_a_runtime_stops_its_agent_and_identity(emulator_url, pool, context_code):
    """Its identity goes after it: AWS lists it for a while, so a read finds it once more."""
    runtime = create_runtime(emulator_url, context_code)
    runtime_id = runtime["agentRuntimeId"]
    pid = _agent_pid(emulator_url, runtime)
    control = client(emulator_url, "bedrock-agentcore-control")
    assert process_alive(pid)
    assert control.delete_agent_runtime(agentRuntimeId=runtime_id)["status"] == "DELETING"
    assert not process_alive(pid)
    with pytest.raises(ClientError) as error:
        control.delete_workload_identity(name=runtime_id)
    assert error_of(error) == ("AccessDeniedException", 403)  # still linked to the service
    assert control.get_workload_identity(name=runtime_id)["name"] == runtime_id
    for call in (
        lambda: control.get_agent_runtime(agentRuntimeId=runtime_id),
        lambda: control.get_workload_identity(name=runtime_id),
    ):
        with pytest.raises(ClientError) as error:
            call()
        assert error_of(error) == ("ResourceNotFoundException", 404)


def test_a_deleted_runtimes_identity_is_listed_once_more(emulator_url, context_code):
    runtime_id = create_runtime(emulator_url, context_code)["agentRuntimeId"]
    control = client(emulator_url, "bedrock-agentcore-control")
    control.delete_agent_runtime(agentRuntimeId=runtime_id)
    names = [
        [w["name"] for w in listed(control, "list_workload_identities", "workloadIdentities")]
        for _ in range(2)
    ]
    assert runtime_id in names[0] and runtime_id not in names[1]


def test_stopping_the_emulator_stops_every_agent():
    process, url = start_emulator_process()
    try:
        pid = _agent_pid(url, create_runtime(url, upload_agent(url, "context_agent")))
        assert process_alive(pid)
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    assert not process_alive(pid)


def test_agents_and_their_fork_server_leave_when_the_emulator_is_killed():
    process, url = start_emulator_process()
    agent = _agent_answer(url, create_runtime(url, upload_agent(url, "context_agent")))
    fork_server = agent["process"]["parent"]
    assert fork_server != process.pid
    process.kill()
    process.wait(timeout=10)
    deadline = time.monotonic() + 10
    while (process_alive(agent["pid"]) or process_alive(fork_server)) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.2)
    assert not process_alive(agent["pid"])
    assert not process_alive(fork_server)


def test_a_forked_agent_has_its_own_environment_directory_arguments_and_path():
    emulator_env = {**os.environ, "AWS_SESSION_TOKEN": "the-learners-own", "SHARED_SETTING": "kept"}
    process, url = start_emulator_process(emulator_env)
    try:
        code = upload_agent(url, "context_agent")
        runtime = create_runtime(url, code, environmentVariables={"GREETING": "hello"})
        seen = _agent_answer(url, runtime)["process"]
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
    assert seen["parent"] != process.pid  # forked by the fork server
    assert seen["frozen"] > 0  # what the fork server imported, skipped by its collections
    expected = {
        name: value
        for name, value in emulator_env.items()
        if not name.startswith(("AWS_", "BEDROCK_AGENTCORE_"))
    } | {
        "GREETING": "hello",
        "DOCKER_CONTAINER": "1",
        "PYTHONUNBUFFERED": "1",
        "AWS_ENDPOINT_URL": url,
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    if "LC_CTYPE" not in emulator_env:  # Python sets it itself in a C locale (PEP 538)
        seen["environ"].pop("LC_CTYPE", None)
    # Its execution role's, not the emulator's (whose they are: test_emulator_iam_policy.py).
    role_session = seen["environ"].pop("AWS_SESSION_TOKEN")
    assert role_session != emulator_env["AWS_SESSION_TOKEN"]
    assert seen["environ"].pop("AWS_ACCESS_KEY_ID") != "testing"
    assert seen["environ"].pop("AWS_SECRET_ACCESS_KEY") != "testing"
    assert seen["environ"] == expected
    assert Path(seen["cwd"]).name.startswith("agentcore-runtime-")
    assert seen["argv"][0].endswith("launch.py")
    assert seen["argv"][1:] == ["main.py"]
    assert seen["path"][:2] == [seen["cwd"], seen["cwd"]]
    assert os.getcwd() not in seen["path"]  # the emulator's


def test_an_agent_whose_variables_a_preloaded_library_reads_is_started_afresh(emulator_url):
    code = upload_agent(emulator_url, "context_agent")
    runtime = create_runtime(
        emulator_url, code, environmentVariables={"OTEL_SERVICE_NAME": "read-at-import"}
    )
    seen = _agent_answer(emulator_url, runtime)["process"]
    emulator = requests.get(f"{emulator_url}/_emulator/health", timeout=5).json()
    assert seen["parent"] == emulator["pid"]
    assert seen["frozen"] == 0
    assert seen["environ"]["OTEL_SERVICE_NAME"] == "read-at-import"


def test_an_agent_is_started_afresh_if_the_fork_server_cannot_fork(tmp_path):
    (tmp_path / "broken_preload.py").write_text('raise RuntimeError("broken at import")\n')
    path = os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))
    process = subprocess.Popen(
        [sys.executable, "-c", BROKEN_FORK_SERVER],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONPATH": path},
    )
    try:
        url = process.stdout.readline().split()[1]
        runtime = create_runtime(url, upload_agent(url, "context_agent"))
        assert runtime["status"] == "READY", runtime.get("failureReason")
        assert _agent_answer(url, runtime)["process"]["parent"] == process.pid
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_the_runtimes_headers_are_the_ones_the_sdks_agent_reads():
    """The backend and the helpers name them without importing the SDK's runtime package."""
    for name in (
        "AUTHORIZATION_HEADER",
        "SESSION_HEADER",
        "REQUEST_ID_HEADER",
        "ACCESS_TOKEN_HEADER",
        "CUSTOM_HEADER_PREFIX",
    ):
        assert getattr(invocations, name) == getattr(sdk, name), name
    assert runtime.SESSION_HEADER == sdk.SESSION_HEADER
