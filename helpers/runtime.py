"""Quickstart steps 7 and 8: the agent on AgentCore Runtime, and invoking it.

Deploying creates (or updates) the runtime from the zip in S3 and waits for READY.
Invoking uses plain HTTPS with the user's bearer token, because boto3 can only sign with
SigV4, and a JWT-protected runtime refuses SigV4.
"""

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

import requests
from botocore.exceptions import ClientError

from helpers import settings
from helpers.agent_code import ENTRY_POINT, PYTHON_RUNTIME
from helpers.backend import Backend
from helpers.calls import Call, redacted
from helpers.credential_provider import CredentialProvider
from helpers.display import Shown, Table, shown, table, utc
from helpers.errors import WorkshopError, explain
from helpers.state import Kind, WorkshopState
from helpers.waiting import wait_until
from helpers.workload_identity import session_binding_url

# Where AgentCore Runtime writes an agent's output: a log group per endpoint, named
# "<runtime id>-<endpoint name>" under this prefix.
LOG_GROUPS = "/aws/bedrock-agentcore/runtimes/"
# The header that keeps a conversation on one session (the SDK's SESSION_HEADER; importing
# that loads its whole runtime package, a fifth of a second in every notebook's kernel).
SESSION_HEADER = "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id"
ROLE_PROPAGATION = 120  # seconds a new IAM role may take before AgentCore can assume it
ROLE_RETRY_INTERVAL = 5.0
# What AgentCore answers while a new role is not yet assumable everywhere (IAM is
# eventually consistent): "Role validation failed for '<role ARN>' …".
ROLE_NOT_YET_ASSUMABLE = "ValidationException"
# AgentCore Runtime's 424 when the agent was not up within its initialization limit (30 s)
# of the invocation that started it: a cold start. The request never reached the agent, so
# sending it again is safe, and the agent goes on starting meanwhile. Any other 424 is the
# agent's own failure: sending it again would fail again (or do twice what it did).
COLD_START = "Runtime initialization time exceeded"
COLD_START_ATTEMPTS = 3
T = TypeVar("T")
# boto3's invoke_agent_runtime signs with SigV4, which a runtime with a JWT authorizer
# refuses: its users call it over plain HTTPS with their bearer token.
INVOKE_WITH_A_BEARER_TOKEN = """\
# boto3's invoke_agent_runtime can only sign with SigV4: send the bearer token yourself.
from urllib.parse import quote

import requests

arn = "{arn}"
answer = requests.post(
    f"{endpoint}/runtimes/{{quote(arn, safe='')}}/invocations",
    params={{"qualifier": "DEFAULT"}},
    headers={{
        "Authorization": "Bearer <access token of the runtime pool's user>",
        "{header}": "<the same session id for every call of a conversation>",
        "Content-Type": "application/json",
    }},
    json={payload!r},
)"""


@dataclass(frozen=True, repr=False)
class Runtime(Shown):
    name: str = shown("Name")
    arn: str = shown("ARN")
    id: str
    version: str = shown("Version")
    status: str = shown("Status")
    # AgentCore names it once the runtime is READY: GetAgentRuntime may leave it out before.
    workload_identity: str | None = shown("Its workload identity")
    failure_reason: str | None = shown("Failure")


def runtime_name(state: WorkshopState) -> str:
    return f"identity_demo_agent_{state.suffix}"


def new_session_id() -> str:
    """A runtime session id: AgentCore wants at least 33 characters; a UUID has 36."""
    return str(uuid.uuid4())


def agent_environment(
    provider: CredentialProvider, state: WorkshopState, model_id: str
) -> dict[str, str]:
    """What agent/agent.py reads from its environment on AgentCore Runtime (``model_id``:
    `helpers.model.model_id` of the region, unless the learner chose another)."""
    return {
        settings.AGENT_MODEL_ID: model_id,
        settings.AGENT_CREDENTIAL_PROVIDER: provider.name,
        settings.AGENT_CALLBACK_URL: session_binding_url(state),
    }


def _runtime(answer: dict[str, Any]) -> Runtime:
    workload_arn = answer.get("workloadIdentityDetails", {}).get("workloadIdentityArn")
    return Runtime(
        id=answer["agentRuntimeId"],
        arn=answer["agentRuntimeArn"],
        name=answer.get("agentRuntimeName", answer["agentRuntimeId"].rsplit("-", 1)[0]),
        status=answer["status"],
        version=answer["agentRuntimeVersion"],
        workload_identity=workload_arn.rsplit("/", 1)[1] if workload_arn else None,
        failure_reason=answer.get("failureReason"),
    )


def get_runtime(backend: Backend, runtime_id: str) -> Runtime:
    with explain(f"Reading the agent runtime {runtime_id}"):
        return _runtime(
            backend.client("bedrock-agentcore-control").get_agent_runtime(agentRuntimeId=runtime_id)
        )


def recorded_runtime(backend: Backend, state: WorkshopState) -> Runtime:
    """The runtime 06_launch deployed, as AgentCore Runtime reports it now."""
    entry = state.get("agent_runtime")
    if entry is None:
        raise WorkshopError("The workshop has not deployed the agent yet: run 06_launch.")
    return get_runtime(backend, entry["id"])


def ensure_runtime(
    backend: Backend,
    state: WorkshopState,
    *,
    role_arn: str,
    code: dict[str, str],
    authorizer: dict[str, Any] | None,
    environment: dict[str, str],
    key: str = "agent_runtime",
    name: str | None = None,
    entry_point: str = ENTRY_POINT,
    notebook: str = "06_launch",
) -> Runtime:
    """Create the runtime, or update it to a new version if the workshop already has one.

    The quickstart's agent is the default; a second agent names its own ledger ``key``,
    ``name`` and ``entry_point`` (a file of the same zip). ``authorizer`` None leaves the
    runtime to SigV4: callers sign with their AWS credentials instead of a bearer token.
    """
    control = backend.client("bedrock-agentcore-control")
    config = {
        "agentRuntimeArtifact": {
            "codeConfiguration": {
                "code": {"s3": code},
                "runtime": PYTHON_RUNTIME,
                "entryPoint": [entry_point],
            }
        },
        "roleArn": role_arn,
        "networkConfiguration": {"networkMode": "PUBLIC"},
        "protocolConfiguration": {"serverProtocol": "HTTP"},
        "environmentVariables": environment,
    }
    if authorizer is not None:
        config["authorizerConfiguration"] = authorizer
    existing = state.get(key)

    def call() -> dict[str, Any]:
        if existing:
            return control.update_agent_runtime(agentRuntimeId=existing["id"], **config)
        return control.create_agent_runtime(agentRuntimeName=name or runtime_name(state), **config)

    answer = _once_the_role_is_assumable(call, "Deploying the agent")
    if not existing:
        state.record(key, Kind.AGENT_RUNTIME, id=answer["agentRuntimeId"], notebook=notebook)
    return get_runtime(backend, answer["agentRuntimeId"])


def _once_the_role_is_assumable(call: Callable[[], dict], action: str) -> dict:
    """A new IAM role takes a while to be assumable; AgentCore says so as a validation error
    naming it, and that passes by waiting. A refusal of your own permissions (access denied,
    e.g. for iam:PassRole on the role) does not: it is explained at once."""

    def attempt() -> dict | None:
        try:
            with explain(action):
                return call()
        except WorkshopError as error:
            if error.code == ROLE_NOT_YET_ASSUMABLE and "role" in (error.reason or "").lower():
                return None
            if error.code == "AccessDeniedException" and "iam:PassRole" in (error.reason or ""):
                sentence = _cannot_pass_role(error.reason)
                raise WorkshopError(sentence, error.code, error.reason) from error
            raise

    return wait_until(
        attempt,
        "the execution role to become assumable",
        ROLE_PROPAGATION,
        ROLE_RETRY_INTERVAL,
        ROLE_RETRY_INTERVAL,
    )


def _cannot_pass_role(reason: str) -> str:
    return (
        f"AgentCore Runtime may not run the agent as its execution role: {reason}. "
        "Your AWS identity needs iam:PassRole on that role, for bedrock-agentcore.amazonaws.com. "
        "AWS's managed policy BedrockAgentCoreFullAccess grants it for roles named "
        "*BedrockAgentCore* (the workshop's are): attach it to your user or role, or ask "
        "your administrator for that permission, then run this cell again."
    )


def wait_until_ready(
    backend: Backend, runtime_id: str, on_progress: Callable[[float], None] | None = None
) -> Runtime:
    def settled() -> Runtime | None:
        runtime = get_runtime(backend, runtime_id)
        return None if runtime.status in ("CREATING", "UPDATING") else runtime

    what = f"the agent runtime {runtime_id}"
    runtime = wait_until(settled, what, 900, 0.2, backend.longest_poll, on_progress)
    if runtime.status != "READY":
        raise WorkshopError(
            f"The agent runtime is {runtime.status}: {runtime.failure_reason}\n"
            "Fix agent/agent.py and run the deploy cell again."
        )
    return runtime


def logs(backend: Backend, runtime_id: str, limit: int = 50) -> list[str]:
    """The agent's newest log lines (CloudWatch Logs, where AgentCore Runtime writes them)."""
    group = f"{LOG_GROUPS}{runtime_id}-DEFAULT"
    try:
        events = backend.client("logs").filter_log_events(logGroupName=group)["events"]
    except ClientError as error:
        if error.response["Error"]["Code"] == "ResourceNotFoundException":
            return []
        raise WorkshopError(f"Reading the agent's log failed: {error}") from error
    return [event["message"] for event in events[-limit:]]


def log_table(backend: Backend, runtime_id: str, limit: int = 12) -> Table:
    """The agent's newest log lines as a short table: time, level, message, session."""

    def row(line: str) -> dict[str, str]:
        try:
            event = json.loads(line)
        except ValueError:
            event = None
        if not isinstance(event, dict):  # not one of the SDK's JSON log lines
            return {"Message": line}
        return {
            "Time": utc(event["timestamp"]) if "timestamp" in event else "",
            "Level": event.get("level", ""),
            "Message": event.get("message", ""),
            "Session": event.get("sessionId", "")[:8],
        }

    lines = logs(backend, runtime_id, limit)
    return table([row(line) for line in lines] or [{"Message": "(no log lines yet)"}])


def post(
    backend: Backend, runtime_arn: str, bearer_token: str | None, session_id: str, payload: dict
) -> requests.Response:
    """InvokeAgentRuntime over HTTPS, as its user calls it; recorded with the boto3 calls.

    The raw answer, refusals included: `invoke` reads it, and a notebook that shows a
    refusal (06, 12) reads its status and error.
    """
    endpoint = backend.client("bedrock-agentcore").meta.endpoint_url
    url = f"{endpoint}/runtimes/{quote(runtime_arn, safe='')}/invocations"
    headers = {
        SESSION_HEADER: session_id,
        "Content-Type": "application/json",
        "Accept": "text/event-stream, application/json",
    }
    if bearer_token is not None:
        headers["Authorization"] = f"Bearer {bearer_token}"
    started, clock = time.time(), time.perf_counter()
    try:
        answer = requests.post(
            url, params={"qualifier": "DEFAULT"}, headers=headers, json=payload, timeout=900
        )
    except requests.RequestException as error:
        raise WorkshopError(f"Could not reach AgentCore Runtime at {endpoint}: {error}") from error
    backend.calls.record(
        Call(
            service="bedrock-agentcore (HTTPS: boto3 cannot send a bearer token)",
            operation="InvokeAgentRuntime",
            request=redacted(
                {
                    "agentRuntimeArn": runtime_arn,
                    "qualifier": "DEFAULT",
                    "runtimeSessionId": session_id,
                    "bearerToken": bearer_token or "(none)",
                    "payload": payload,
                }
            ),
            status=answer.status_code,
            error=answer.headers.get("x-amzn-ErrorType"),
            milliseconds=(time.perf_counter() - clock) * 1000,
            started=started,
            code=INVOKE_WITH_A_BEARER_TOKEN.format(
                endpoint=endpoint, arn=runtime_arn, header=SESSION_HEADER, payload=payload
            ),
        )
    )
    return answer


def invoke(
    backend: Backend, runtime_arn: str, bearer_token: str, session_id: str, payload: dict
) -> Any:
    """Call the agent as its user does: bearer token, session id, JSON in; JSON or SSE out.

    A cold start's 424 is sent again (`through_cold_starts`).
    """

    def send() -> requests.Response:
        answer = post(backend, runtime_arn, bearer_token, session_id, payload)
        if answer.status_code >= 400:
            raise WorkshopError(*_explain_refusal(answer), _message(answer))
        return answer

    answer = through_cold_starts(send)
    if "text/event-stream" in answer.headers.get("Content-Type", ""):
        return [
            json.loads(line.removeprefix("data: "))
            for line in answer.text.splitlines()
            if line.startswith("data: ")
        ]
    return answer.json()


def through_cold_starts(send: Callable[[], T]) -> T:
    """``send`` (an invocation), sent again while AgentCore Runtime refuses it as a cold
    start (a `WorkshopError` whose reason is AWS's `COLD_START` message), up to
    COLD_START_ATTEMPTS calls in all: the request never reached the agent."""
    for _ in range(COLD_START_ATTEMPTS - 1):
        try:
            return send()
        except WorkshopError as error:
            if not (error.reason or "").startswith(COLD_START):
                raise
    return send()


def refusals(backend: Backend, runtime_arn: str, tokens: dict[str, str | None]) -> Table:
    """What the runtime answers each of ``tokens`` (label → bearer token, None for none)."""
    rows = []
    for label, token in tokens.items():
        answer = post(backend, runtime_arn, token, new_session_id(), {"prompt": "hello"})
        rows.append(
            {
                "Bearer token": label,
                "HTTP status": answer.status_code,
                "Error": answer.headers.get("x-amzn-ErrorType", ""),
                "Message": _message(answer),
            }
        )
    return table(rows)


def _message(answer: requests.Response) -> str:
    """The ``message`` of an AWS error answer, or its text when it is not one."""
    try:
        return answer.json().get("message", answer.text)
    except ValueError:
        return answer.text


def _cold_start(answer: requests.Response) -> bool:
    return answer.status_code == 424 and _message(answer).startswith(COLD_START)


def _explain_refusal(answer: requests.Response) -> tuple[str, str | None]:
    """A sentence for a refused invocation, and AWS's error code."""
    message = _message(answer)
    if _cold_start(answer):
        return (
            f"AgentCore Runtime answered 424: {message} It did so {COLD_START_ATTEMPTS} times "
            "in a row, so the agent does not start: read its log with runtime.logs(...) "
            "(an error at import, or imports too slow for the limit).",
            answer.headers.get("x-amzn-ErrorType"),
        )
    hints = {
        401: "The runtime's JWT authorizer refused the bearer token. Get a fresh one "
        "(cognito.bearer_token; they expire after an hour) from the runtime pool's client.",
        403: "The runtime takes bearer tokens only (it has a JWT authorizer), or SigV4 only.",
        404: "No such runtime: deploy it first (06_launch).",
        424: "The agent itself failed: read its log with runtime.logs(...).",
    }
    hint = hints.get(answer.status_code, "")
    sentence = f"AgentCore Runtime answered {answer.status_code}: {message} {hint}".strip()
    return sentence, answer.headers.get("x-amzn-ErrorType")
