"""Quickstart step 6: the workload identity, its return URLs, and the session-binding page.

A **workload identity** names the agent to AgentCore Identity. A *workload access token*
binds that name to the user the agent is working for, and is what the agent presents to
get that user's tokens out of the vault.
"""

import json
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpers import settings
from helpers.backend import Backend
from helpers.display import Shown, shown
from helpers.errors import explain
from helpers.paths import private_file, workshop_dir
from helpers.state import Kind, WorkshopState

WORKLOAD_NAME = "identity-demo-workload"
LOCAL_DEV_CONFIG = ".agentcore.json"


@dataclass(frozen=True, repr=False)
class WorkloadIdentity(Shown):
    name: str = shown("Name")
    arn: str = shown("ARN")
    return_urls: tuple[str, ...] = shown("Allowed return URLs")


def _workload(answer: dict[str, Any]) -> WorkloadIdentity:
    return WorkloadIdentity(
        answer["name"],
        answer["workloadIdentityArn"],
        tuple(answer.get("allowedResourceOauth2ReturnUrls") or ()),
    )


def ensure_workload_identity(backend: Backend, state: WorkshopState) -> WorkloadIdentity:
    """The quickstart's `identity-demo-workload`, suffixed so workshops never collide."""
    control = backend.client("bedrock-agentcore-control")
    name = f"{WORKLOAD_NAME}-{state.suffix}"
    if state.get("workload_identity") is None:
        with explain(f"Creating the workload identity {name}"):
            control.create_workload_identity(name=name, allowedResourceOauth2ReturnUrls=[])
        state.record("workload_identity", Kind.WORKLOAD_IDENTITY, name=name)
    return get_workload_identity(backend, name)


def get_workload_identity(backend: Backend, name: str) -> WorkloadIdentity:
    with explain(f"Reading the workload identity {name}"):
        return _workload(
            backend.client("bedrock-agentcore-control").get_workload_identity(name=name)
        )


def set_return_urls(
    backend: Backend, name: str, add: tuple[str, ...] = (), remove: tuple[str, ...] = ()
) -> WorkloadIdentity:
    """Add and remove allowed return URLs, keeping the rest (the API replaces the list)."""
    current = get_workload_identity(backend, name).return_urls
    wanted = [u for u in current if u not in remove] + [u for u in add if u not in current]
    with explain(f"Updating the return URLs of {name}"):
        answer = backend.client("bedrock-agentcore-control").update_workload_identity(
            name=name, allowedResourceOauth2ReturnUrls=wanted
        )
    return _workload(answer)


def workload_access_token(backend: Backend, workload: str, user_token: str) -> str:
    """The token that lets ``workload`` act for the user who owns ``user_token``."""
    with explain(f"Getting a workload access token for {workload}"):
        answer = backend.client("bedrock-agentcore").get_workload_access_token_for_jwt(
            workloadName=workload, userToken=user_token
        )
    return answer["workloadAccessToken"]


def session_binding_url(state: WorkshopState) -> str:
    """Where a user's browser lands after consent: the workshop's session-binding page.

    The deployed agent names it as its return URL and the workload identity must allow
    it, so it is chosen once and kept in the state: the port in SESSION_BINDING_PORT
    (say, one your remote Jupyter forwards), else a free port on this machine.
    """

    def choose() -> str:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", settings.session_binding_port()))
            port = probe.getsockname()[1]
        return f"http://127.0.0.1:{port}/oauth2/callback"

    return state.setting("session_binding_url", choose)


def write_local_dev_config(workload: str, user_id: str, directory: Path | None = None) -> Path:
    """Point the SDK's local-development path at ``workload``.

    Outside AgentCore Runtime nobody hands the agent a workload access token, so the
    SDK's decorators read ``.agentcore.json`` in the working directory (or create a new
    workload identity) and mint one for ``user_id`` themselves.
    """
    path = (directory or workshop_dir()) / LOCAL_DEV_CONFIG
    config = {"workload_identity_name": workload, "user_id": user_id}
    private_file(path, json.dumps(config, indent=2) + "\n")
    return path
