"""A first invocation during a cold start, as AWS answers it: 424 "Runtime initialization
time exceeded" while the agent is still starting (aws-service-facts.md §2c). The helpers
send it again, a bounded number of times; the 424 of an agent that failed they do not.

An emulator of this module's own has a 2 s initialization limit (AWS's is 30 s). The
context agent is deployed, then told to start slowly and crashed: the next invocation
starts it afresh, and finds it still starting.
"""

import os
import signal
from pathlib import Path

import pytest

from helpers import machine_runtime, runtime
from helpers.backend import Backend
from helpers.errors import WorkshopError
from tests.support import (
    REGION,
    client,
    create_runtime,
    http_error_of,
    invoke_with_bearer,
    pool_with_user,
    quickstart_authorizer,
    start_emulator_process,
    upload_agent,
)

LIMIT = 2  # seconds: the emulator's initialization limit
COLD_START = (  # AWS's words, with its limit
    "Runtime initialization time exceeded. "
    f"Please make sure that initialization completes in {LIMIT}s."
)


@pytest.fixture(scope="module")
def cold_emulator():
    process, url = start_emulator_process(
        {**os.environ, "EMULATOR_INITIALIZATION_LIMIT": str(LIMIT)}
    )
    yield url
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)


@pytest.fixture(scope="module")
def pool(cold_emulator):
    return pool_with_user(cold_emulator)


@pytest.fixture
def deploy(cold_emulator, tmp_path):
    """Deploy the context agent (``config``: the runtime's own); it and its start-pause file."""
    deployed = []

    def deploy_with(**config) -> tuple[dict, Path]:
        pause = tmp_path / f"start-pause-{len(deployed)}"
        runtime = create_runtime(
            cold_emulator,
            upload_agent(cold_emulator, "context_agent"),
            environmentVariables={"START_PAUSE": str(pause)},
            **config,
        )
        assert runtime["status"] == "READY"
        deployed.append(runtime["agentRuntimeId"])
        return runtime, pause

    yield deploy_with
    control = client(cold_emulator, "bedrock-agentcore-control")
    for runtime_id in deployed:
        control.delete_agent_runtime(agentRuntimeId=runtime_id)


@pytest.fixture
def agent(deploy, pool):
    """The context agent behind the quickstart's authorizer, and its start-pause file."""
    return deploy(authorizerConfiguration=quickstart_authorizer(pool))


def _crash_then_start_in(url: str, agent, pool: dict, seconds: float) -> None:
    """The agent's next start takes ``seconds``; crash it, so the next invocation starts it."""
    deployed, pause = agent
    pause.write_text(str(seconds))
    crashed = invoke_with_bearer(url, deployed, {"crash": True}, token=pool["access_token"])
    assert http_error_of(crashed)[:2] == (424, "RuntimeClientError")


def _invocations(be: Backend) -> list[int | None]:
    return [call.status for call in be.calls.calls if call.operation == "InvokeAgentRuntime"]


def test_an_invocation_during_a_cold_start_is_refused_with_awss_message(cold_emulator, agent, pool):
    _crash_then_start_in(cold_emulator, agent, pool, LIMIT + 1)
    answer = invoke_with_bearer(cold_emulator, agent[0], {}, token=pool["access_token"])
    assert http_error_of(answer) == (424, "RuntimeClientError", COLD_START)


def test_the_helpers_send_a_cold_starts_invocation_again(cold_emulator, agent, pool):
    """The agent takes longer than one limit to start, less than the retries' bound."""
    _crash_then_start_in(cold_emulator, agent, pool, LIMIT + 1)
    be = Backend("local", REGION, cold_emulator)
    answer = runtime.invoke(be, agent[0]["agentRuntimeArn"], pool["access_token"], "s" * 36, {})
    assert answer["session_id"] == "s" * 36
    assert _invocations(be)[0] == 424 and _invocations(be)[-1] == 200


def test_an_agent_that_never_starts_is_given_up_on_after_the_bound(cold_emulator, agent, pool):
    _crash_then_start_in(cold_emulator, agent, pool, 3600)
    be = Backend("local", REGION, cold_emulator)
    with pytest.raises(WorkshopError, match="3 times in a row") as refusal:
        runtime.invoke(be, agent[0]["agentRuntimeArn"], pool["access_token"], "s" * 36, {})
    assert refusal.value.code == "RuntimeClientError"
    assert _invocations(be) == [424] * runtime.COLD_START_ATTEMPTS


def test_an_agent_that_failed_is_not_sent_the_request_again(cold_emulator, agent, pool):
    be = Backend("local", REGION, cold_emulator)
    arn = agent[0]["agentRuntimeArn"]
    with pytest.raises(WorkshopError, match="The agent itself failed"):
        runtime.invoke(be, arn, pool["access_token"], "s" * 36, {"crash": True})
    assert _invocations(be) == [424]


def test_a_machine_agents_cold_start_is_sent_again_too(cold_emulator, deploy):
    """SigV4 through boto3 (09's machine agent): its crash is not sent again, its cold
    start is."""
    deployed, pause = deploy()
    be = Backend("local", REGION, cold_emulator)
    with pytest.raises(WorkshopError, match="RuntimeClientError: The agent did not answer"):
        machine_runtime.invoke(be, deployed["agentRuntimeArn"], {"crash": True})
    pause.write_text(str(LIMIT + 1))
    answer = machine_runtime.invoke(be, deployed["agentRuntimeArn"], {})
    statuses = _invocations(be)
    assert statuses[:2] == [424, 424] and statuses[-1] == 200  # the crash, then the cold start
    assert answer["workload_access_token"]  # for the caller it names
