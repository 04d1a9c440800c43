"""AgentCore Runtime endpoints on the local backend: boto3 and the bedrock-agentcore SDK for
the control plane, InvokeAgentRuntime with a ``qualifier``, and agents that die."""

import json
import os
import re
import signal
import time
import uuid

import botocore.session
import pytest
import requests
from bedrock_agentcore._utils.config import WaitConfig
from bedrock_agentcore.runtime.agent_core_runtime_client import AgentCoreRuntimeClient
from bedrock_agentcore.runtime.models import SESSION_HEADER
from botocore.exceptions import ClientError
from moto.core.utils import camelcase_to_underscores

from emulator.runtime.responses import RuntimeControlResponse
from emulator.runtime.routes import PREFIX
from tests.support import REGION, client, create_runtime, error_of, process_alive

QUICK = WaitConfig(max_wait=60, poll_interval=1)
ENDPOINT_ARN = "arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/{}/runtime-endpoint/{}"


def _control(url: str):
    return client(url, "bedrock-agentcore-control")


def _settled_endpoint(url: str, runtime_id: str, name: str) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = _control(url).get_agent_runtime_endpoint(
            agentRuntimeId=runtime_id, endpointName=name
        )
        if found["status"] not in ("CREATING", "UPDATING"):
            return found
        time.sleep(0.1)
    raise AssertionError(f"endpoint {name} of {runtime_id} did not settle")


def _update_runtime(url: str, runtime: dict, greeting: str) -> dict:
    control = _control(url)
    control.update_agent_runtime(
        agentRuntimeId=runtime["agentRuntimeId"],
        agentRuntimeArtifact=runtime["agentRuntimeArtifact"],
        roleArn=runtime["roleArn"],
        networkConfiguration={"networkMode": "PUBLIC"},
        environmentVariables={"GREETING": greeting},
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = control.get_agent_runtime(agentRuntimeId=runtime["agentRuntimeId"])
        if found["status"] != "UPDATING":
            return found
        time.sleep(0.1)
    raise AssertionError(f"{runtime['agentRuntimeId']} did not settle")


def _invoke(url: str, runtime: dict, qualifier: str | None = None, payload: dict | None = None):
    """What the agent behind ``qualifier`` reports (SigV4: the runtimes here have no authorizer)."""
    extra = {"qualifier": qualifier} if qualifier else {}
    answer = client(url, "bedrock-agentcore").invoke_agent_runtime(
        agentRuntimeArn=runtime["agentRuntimeArn"], payload=json.dumps(payload or {}), **extra
    )
    return json.loads(answer["response"].read())


def _gone(pid: int) -> bool:
    deadline = time.monotonic() + 10
    while process_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not process_alive(pid)


@pytest.fixture(scope="module")
def two_versions(emulator_url, context_code):
    """A runtime without an authorizer, updated once: version 1 and version 2 greet apart."""
    runtime = create_runtime(emulator_url, context_code, environmentVariables={"GREETING": "one"})
    return _update_runtime(emulator_url, runtime, "two")


def test_an_endpoint_serves_the_version_it_was_given(emulator_url, two_versions):
    runtime_id = two_versions["agentRuntimeId"]
    created = _control(emulator_url).create_agent_runtime_endpoint(
        agentRuntimeId=runtime_id, name="pinned", agentRuntimeVersion="1", description="stays"
    )
    assert created["status"] == "CREATING"
    assert created["targetVersion"] == "1"
    assert created["agentRuntimeArn"] == two_versions["agentRuntimeArn"]
    assert created["agentRuntimeEndpointArn"] == ENDPOINT_ARN.format(runtime_id, "pinned")
    endpoint = _settled_endpoint(emulator_url, runtime_id, "pinned")
    assert endpoint["status"] == "READY"
    assert (endpoint["liveVersion"], endpoint["targetVersion"]) == ("1", "1")
    assert endpoint["description"] == "stays"
    assert re.fullmatch(r"pinned-[A-Za-z0-9]{10}", endpoint["id"])
    assert _invoke(emulator_url, two_versions, "pinned")["environment"]["GREETING"] == "one"
    assert _invoke(emulator_url, two_versions, "DEFAULT")["environment"]["GREETING"] == "two"
    assert _invoke(emulator_url, two_versions)["environment"]["GREETING"] == "two"
    events = client(emulator_url, "logs").filter_log_events(
        logGroupName=f"/aws/bedrock-agentcore/runtimes/{runtime_id}-pinned"
    )["events"]
    assert "context agent invoked: []" in [event["message"] for event in events]


def test_an_endpoint_without_a_version_takes_the_newest(emulator_url, two_versions):
    runtime_id = two_versions["agentRuntimeId"]
    created = _control(emulator_url).create_agent_runtime_endpoint(
        agentRuntimeId=runtime_id, name="newest"
    )
    assert created["targetVersion"] == "2"
    assert _settled_endpoint(emulator_url, runtime_id, "newest")["liveVersion"] == "2"
    assert _invoke(emulator_url, two_versions, "newest")["environment"]["GREETING"] == "two"


def test_updating_an_endpoint_moves_it_to_another_version(emulator_url, two_versions):
    runtime_id = two_versions["agentRuntimeId"]
    control = _control(emulator_url)
    control.create_agent_runtime_endpoint(
        agentRuntimeId=runtime_id, name="moving", agentRuntimeVersion="1"
    )
    assert _settled_endpoint(emulator_url, runtime_id, "moving")["liveVersion"] == "1"
    updated = control.update_agent_runtime_endpoint(
        agentRuntimeId=runtime_id, endpointName="moving", agentRuntimeVersion="2"
    )
    assert updated["status"] == "UPDATING"
    assert (updated["liveVersion"], updated["targetVersion"]) == ("1", "2")
    endpoint = _settled_endpoint(emulator_url, runtime_id, "moving")
    assert (endpoint["status"], endpoint["liveVersion"]) == ("READY", "2")
    assert _invoke(emulator_url, two_versions, "moving")["environment"]["GREETING"] == "two"


def test_the_default_endpoint_follows_every_update(emulator_url, context_code):
    runtime = create_runtime(emulator_url, context_code, environmentVariables={"GREETING": "a"})
    control = _control(emulator_url)
    control.create_agent_runtime_endpoint(agentRuntimeId=runtime["agentRuntimeId"], name="held")
    _settled_endpoint(emulator_url, runtime["agentRuntimeId"], "held")
    _update_runtime(emulator_url, runtime, "b")
    endpoints = {
        e["name"]: e
        for e in control.list_agent_runtime_endpoints(agentRuntimeId=runtime["agentRuntimeId"])[
            "runtimeEndpoints"
        ]
    }
    assert (endpoints["DEFAULT"]["liveVersion"], endpoints["held"]["liveVersion"]) == ("2", "1")
    assert _invoke(emulator_url, runtime)["environment"]["GREETING"] == "b"
    assert _invoke(emulator_url, runtime, "held")["environment"]["GREETING"] == "a"


def test_a_name_in_use_is_a_conflict(emulator_url, two_versions):
    control = _control(emulator_url)
    for name in ("DEFAULT", "twice"):
        if name != "DEFAULT":
            control.create_agent_runtime_endpoint(
                agentRuntimeId=two_versions["agentRuntimeId"], name=name
            )
        with pytest.raises(ClientError) as error:
            control.create_agent_runtime_endpoint(
                agentRuntimeId=two_versions["agentRuntimeId"], name=name
            )
        assert error_of(error) == ("ConflictException", 409), name


def test_what_does_not_exist_is_refused_in_awss_shape(emulator_url, two_versions):
    control = _control(emulator_url)
    runtime_id = two_versions["agentRuntimeId"]
    refused = {
        "get": lambda: control.get_agent_runtime_endpoint(
            agentRuntimeId=runtime_id, endpointName="nowhere"
        ),
        "update": lambda: control.update_agent_runtime_endpoint(
            agentRuntimeId=runtime_id, endpointName="nowhere", agentRuntimeVersion="1"
        ),
        "delete": lambda: control.delete_agent_runtime_endpoint(
            agentRuntimeId=runtime_id, endpointName="nowhere"
        ),
        "unknown runtime": lambda: control.create_agent_runtime_endpoint(
            agentRuntimeId="nothing_here-0123456789", name="prod"
        ),
        "unknown version": lambda: control.get_agent_runtime(
            agentRuntimeId=runtime_id, agentRuntimeVersion="9"
        ),
    }
    for case, call in refused.items():
        with pytest.raises(ClientError) as error:
            call()
        assert error_of(error) == ("ResourceNotFoundException", 404), case
    with pytest.raises(ClientError) as error:
        control.create_agent_runtime_endpoint(
            agentRuntimeId=runtime_id, name="future", agentRuntimeVersion="9"
        )
    assert error_of(error) == ("ValidationException", 400)
    assert "no version 9" in error.value.response["Error"]["Message"]


def test_an_unknown_qualifier_is_not_found(emulator_url, two_versions):
    with pytest.raises(ClientError) as error:
        _invoke(emulator_url, two_versions, "nowhere")
    assert error_of(error) == ("ResourceNotFoundException", 404)
    arn = requests.utils.quote(two_versions["agentRuntimeArn"], safe="")
    answer = requests.post(
        f"{emulator_url}/runtimes/{arn}/invocations",
        params={"qualifier": "nowhere"},
        headers={SESSION_HEADER: str(uuid.uuid4()), "Authorization": "Bearer x"},
        json={},
        timeout=10,
    )
    assert answer.status_code == 404
    assert answer.headers["x-amzn-ErrorType"] == "ResourceNotFoundException"
    assert answer.json()["__type"] == "ResourceNotFoundException"


def test_the_default_endpoint_is_the_runtimes_own(emulator_url, two_versions):
    control = _control(emulator_url)
    with pytest.raises(ClientError) as error:
        control.delete_agent_runtime_endpoint(
            agentRuntimeId=two_versions["agentRuntimeId"], endpointName="DEFAULT"
        )
    assert error_of(error) == ("ConflictException", 409)
    with pytest.raises(ClientError) as error:
        control.update_agent_runtime_endpoint(
            agentRuntimeId=two_versions["agentRuntimeId"],
            endpointName="DEFAULT",
            agentRuntimeVersion="1",
        )
    assert error_of(error) == ("ValidationException", 400)


def test_a_runtime_is_deleted_only_once_its_endpoints_are(emulator_url, context_code):
    runtime = create_runtime(emulator_url, context_code)
    runtime_id = runtime["agentRuntimeId"]
    control = _control(emulator_url)
    control.create_agent_runtime_endpoint(agentRuntimeId=runtime_id, name="blocking")
    _settled_endpoint(emulator_url, runtime_id, "blocking")
    endpoint_pid = _invoke(emulator_url, runtime, "blocking")["pid"]
    default_pid = _invoke(emulator_url, runtime)["pid"]
    assert endpoint_pid != default_pid
    with pytest.raises(ClientError) as error:
        control.delete_agent_runtime(agentRuntimeId=runtime_id)
    assert error_of(error) == ("ConflictException", 409)
    assert "blocking" in error.value.response["Error"]["Message"]
    deleted = control.delete_agent_runtime_endpoint(
        agentRuntimeId=runtime_id, endpointName="blocking"
    )
    assert (deleted["status"], deleted["endpointName"]) == ("DELETING", "blocking")
    assert _gone(endpoint_pid)
    assert process_alive(default_pid)
    with pytest.raises(ClientError) as error:
        _invoke(emulator_url, runtime, "blocking")
    assert error_of(error) == ("ResourceNotFoundException", 404)
    assert control.delete_agent_runtime(agentRuntimeId=runtime_id)["status"] == "DELETING"
    assert _gone(default_pid)


def test_the_sdks_endpoint_helpers_create_wait_update_and_tear_down(
    emulator_url, sdk_environment, context_code
):
    runtime = create_runtime(emulator_url, context_code, environmentVariables={"GREETING": "1"})
    runtime = _update_runtime(emulator_url, runtime, "2")
    runtime_id = runtime["agentRuntimeId"]
    sdk = AgentCoreRuntimeClient(region=REGION)
    endpoint = sdk.create_agent_runtime_endpoint_and_wait(
        wait_config=QUICK, agentRuntimeId=runtime_id, name="sdk_ep", agentRuntimeVersion="1"
    )
    assert (endpoint["status"], endpoint["liveVersion"]) == ("READY", "1")
    endpoint = sdk.update_agent_runtime_endpoint_and_wait(
        wait_config=QUICK, agentRuntimeId=runtime_id, endpointName="sdk_ep", agentRuntimeVersion="2"
    )
    assert (endpoint["status"], endpoint["liveVersion"]) == ("READY", "2")
    status = sdk.get_aggregated_status(runtime_id, endpoint_name="sdk_ep")
    assert (status["runtime"]["status"], status["endpoint"]["status"]) == ("READY", "READY")
    sdk.teardown_endpoint_and_runtime(runtime_id, endpoint_name="sdk_ep")
    with pytest.raises(ClientError) as error:
        sdk.get_agent_runtime(agentRuntimeId=runtime_id)
    assert error_of(error) == ("ResourceNotFoundException", 404)


def _served_list_operations() -> list:
    """Every List* operation of the model that `emulator.runtime.routes` answers (by path)."""
    model = botocore.session.get_session().get_service_model("bedrock-agentcore-control")
    return [
        model.operation_model(name)
        for name in model.operation_names
        if name.startswith("List")
        and model.operation_model(name).http["requestUri"].startswith(PREFIX)
        and hasattr(RuntimeControlResponse, camelcase_to_underscores(name))
    ]


def test_every_list_item_carries_what_the_model_requires(emulator_url, two_versions):
    runtime_id = two_versions["agentRuntimeId"]
    control = _control(emulator_url)
    control.create_agent_runtime_endpoint(agentRuntimeId=runtime_id, name="listed")
    known = {"agentRuntimeId": runtime_id}
    operations = _served_list_operations()
    assert {o.name for o in operations} == {
        "ListAgentRuntimes",
        "ListAgentRuntimeVersions",
        "ListAgentRuntimeEndpoints",
    }
    for operation in operations:
        params = {name: known[name] for name in operation.input_shape.required_members}
        answer = getattr(control, camelcase_to_underscores(operation.name))(**params)
        for key, member in operation.output_shape.members.items():
            if member.type_name != "list":
                continue
            assert answer[key], operation.name
            required = set(member.member.required_members)
            for item in answer[key]:
                assert required <= set(item), (operation.name, required - set(item))


# A dead agent


def test_a_killed_agent_is_replaced_on_the_next_invocation(emulator_url, context_code):
    runtime = create_runtime(emulator_url, context_code)
    pid = _invoke(emulator_url, runtime)["pid"]
    os.kill(pid, signal.SIGKILL)
    assert _gone(pid)
    fresh = _invoke(emulator_url, runtime)["pid"]
    assert fresh != pid
    assert process_alive(fresh)
    assert _invoke(emulator_url, runtime)["pid"] == fresh


def test_an_agent_on_its_way_out_is_replaced_not_refused(emulator_url, context_code):
    """A dying agent's socket closes a moment before it is seen to exit: the invocation
    after its crash starts a new agent, never finds the old one's port closed."""
    runtime = create_runtime(emulator_url, context_code)
    pid = _invoke(emulator_url, runtime)["pid"]
    with pytest.raises(ClientError) as crashed:
        _invoke(emulator_url, runtime, payload={"crash": "slowly"})
    assert error_of(crashed) == ("RuntimeClientError", 424)
    assert _invoke(emulator_url, runtime)["pid"] != pid


def test_after_a_crash_the_next_invocation_gets_a_fresh_agent(emulator_url, context_code):
    runtime = create_runtime(emulator_url, context_code)
    pid = _invoke(emulator_url, runtime)["pid"]
    with pytest.raises(ClientError) as error:
        _invoke(emulator_url, runtime, payload={"crash": True})
    assert error_of(error) == ("RuntimeClientError", 424)
    assert _gone(pid)
    assert _invoke(emulator_url, runtime)["pid"] != pid
