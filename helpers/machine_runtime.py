"""Notebooks 09 and 10: the second agent (`agent/machine_agent.py`) on a runtime of its own.

It is deployed from the same zip as the quickstart's agent, with its own execution role,
and **without a JWT authorizer**: no user calls it, so its callers sign with SigV4 (their
AWS credentials) and boto3's `invoke_agent_runtime` is the right client. AgentCore Runtime
hands an agent a workload access token only for a named caller, so the call names one
(`runtimeUserId`, which needs `bedrock-agentcore:InvokeAgentRuntimeForUser`): here the
system that calls it, not a person.
"""

import json
from collections.abc import Callable
from typing import Any

from helpers import api_keys, execution_role, machine_to_machine, packaging, runtime
from helpers.backend import Backend
from helpers.display import Table, table
from helpers.errors import WorkshopError, explain
from helpers.execution_role import ExecutionRole
from helpers.paths import AGENT_DIR
from helpers.runtime import Runtime
from helpers.state import WorkshopState

ENTRY_POINT = "machine_agent.py"
AGENT_FILE = AGENT_DIR / ENTRY_POINT
RUNTIME_KEY, ROLE_KEY = "machine_runtime", "machine_execution_role"
POLICY_NAME = "AgentCoreMachineAgent"
CALLER = "nightly-report-job"  # who calls the agent: a system, named as runtimeUserId
# What agent/machine_agent.py reads from its environment (set at deploy time).
M2M_PROVIDER = "M2M_PROVIDER_NAME"
M2M_RESOURCE_SERVER = "M2M_RESOURCE_SERVER"
API_KEY_PROVIDER = "API_KEY_PROVIDER_NAME"


def runtime_name(state: WorkshopState) -> str:
    return f"machine_agent_{state.suffix}"


def environment(state: WorkshopState) -> dict[str, str]:
    """The providers the workshop has made so far (09's, 10's or both), for the agent."""
    variables = {}
    if m2m := state.get("machine_provider"):
        variables[M2M_PROVIDER] = m2m["name"]
        variables[M2M_RESOURCE_SERVER] = machine_to_machine.RESOURCE_SERVER
    if api_key := state.get("api_key_provider"):
        variables[API_KEY_PROVIDER] = api_key["name"]
    return variables


def _policy(backend: Backend, state: WorkshopState) -> dict[str, Any]:
    """Least privilege: logs, workload access tokens for this runtime, its providers only."""
    workloads = execution_role.workload_identities(backend, runtime_name(state))
    statements = [
        *execution_role.logs_statements(backend),
        execution_role.workload_access_tokens(workloads, for_jwt=False),
    ]
    secrets = []
    if state.get("machine_provider"):
        provider = machine_to_machine.recorded_machine_provider(backend, state)
        vault = execution_role.token_vault(backend, execution_role.OAUTH2, [provider.name])
        statements.append(_grant("MachineTokens", "GetResourceOauth2Token", workloads + vault))
        secrets.append(provider.secret_arn)
    if state.get("api_key_provider"):
        provider = api_keys.recorded_api_key_provider(backend, state)
        vault = execution_role.token_vault(backend, execution_role.API_KEY, [provider.name])
        statements.append(_grant("ApiKeys", "GetResourceApiKey", workloads + vault))
        secrets.append(provider.secret_arn)
    if secrets:
        statements.append(
            {
                "Sid": "ProviderSecrets",
                "Effect": "Allow",
                "Action": ["secretsmanager:GetSecretValue"],
                "Resource": secrets,
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def _grant(sid: str, action: str, resources: list[str]) -> dict:
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Action": [f"bedrock-agentcore:{action}"],
        "Resource": resources,
    }


def ensure_role(backend: Backend, state: WorkshopState, notebook: str) -> ExecutionRole:
    """The machine agent's own execution role, its policy (re)applied for today's providers."""
    return execution_role.ensure_role(
        backend,
        state,
        key=ROLE_KEY,
        name=execution_role.role_name("Machine", state),
        description="Runs the AgentCore Identity workshop's machine agent",
        policy_name=POLICY_NAME,
        policy=_policy(backend, state),
        notebook=notebook,
    )


def deploy(
    backend: Backend,
    state: WorkshopState,
    role: ExecutionRole,
    notebook: str,
    on_progress: Callable[[float], None] | None = None,
) -> Runtime:
    """Zip (both agents), upload, create or update the SigV4 runtime, wait for READY.

    The environment names the providers the workshop has today, so a re-run of 09 after
    10 keeps 10's API-key provider, and each deploy is a new version of the same runtime.
    """
    name = runtime_name(state)
    code = packaging.upload(backend, state, packaging.package(backend), name)
    deployed = runtime.ensure_runtime(
        backend,
        state,
        role_arn=role.arn,
        code=code,
        authorizer=None,
        environment=environment(state),
        key=RUNTIME_KEY,
        name=name,
        entry_point=ENTRY_POINT,
        notebook=notebook,
    )
    return runtime.wait_until_ready(backend, deployed.id, on_progress)


def invoke(backend: Backend, runtime_arn: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Call the machine agent as a system does: boto3, SigV4, a caller id, a new session.

    A cold start's 424 is sent again in the same session (`runtime.through_cold_starts`).
    """
    session_id = runtime.new_session_id()
    return runtime.through_cold_starts(
        lambda: _invoke_once(backend, runtime_arn, session_id, payload)
    )


def _invoke_once(
    backend: Backend, runtime_arn: str, session_id: str, payload: dict[str, Any]
) -> dict[str, Any]:
    with explain("Invoking the machine agent"):
        answer = backend.client("bedrock-agentcore").invoke_agent_runtime(
            agentRuntimeArn=runtime_arn,
            qualifier="DEFAULT",
            runtimeSessionId=session_id,
            runtimeUserId=CALLER,
            contentType="application/json",
            accept="application/json",
            payload=json.dumps(payload),
        )
    return json.loads(answer["response"].read())


def answers(backend: Backend, runtime_arn: str, payloads: dict[str, dict[str, Any]]) -> Table:
    """What the agent answers each payload (label → payload): one row each, no credential."""
    rows = []
    for label, payload in payloads.items():
        answer = invoke(backend, runtime_arn, payload)
        error = answer.pop("error", None)
        answer.pop("tool", None)
        outcome = f"{error['Code']}: {error['Message']}" if error else "ok"
        rows.append({"Asked": label, "Outcome": outcome, **answer})
    return table(rows)


def recorded_runtime(backend: Backend, state: WorkshopState) -> Runtime:
    """The machine agent's runtime as AgentCore Runtime reports it now."""
    entry = state.get(RUNTIME_KEY)
    if entry is None:
        raise WorkshopError("The machine agent is not deployed: run 09_machine_to_machine.")
    return runtime.get_runtime(backend, entry["id"])
