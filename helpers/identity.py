"""Quickstart steps 5 and 6: the OAuth2 credential provider and the workload identity.

* The **credential provider** tells AgentCore Identity how to get tokens from the
  external service (here the identity pool): its discovery URL, client id and secret.
  The secret goes into Secrets Manager; the tokens it obtains go into the **token vault**.
* A **workload identity** names the agent to AgentCore Identity. A *workload access
  token* binds that name to the user the agent is working for, and is what the agent
  presents to get that user's tokens out of the vault.
"""

import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpers.backend import Backend
from helpers.cognito import CognitoSetup, Pool
from helpers.errors import WorkshopError, explain
from helpers.paths import private_file, workshop_dir
from helpers.state import WorkshopState

PROVIDER_NAME = "ExternalServiceProvider"
WORKLOAD_NAME = "identity-demo-workload"
LOCAL_DEV_CONFIG = ".agentcore.json"
SESSION_BINDING_PORT = "SESSION_BINDING_PORT"


@dataclass(frozen=True)
class CredentialProvider:
    name: str
    arn: str
    vendor: str
    callback_url: str
    secret_arn: str
    discovery_url: str

    def rows(self) -> dict[str, str]:
        return {
            "Name": self.name,
            "Vendor": self.vendor,
            "ARN": self.arn,
            "Discovery URL": self.discovery_url,
            "Client secret (stored at)": self.secret_arn,
            "Callback URL": self.callback_url,
        }


@dataclass(frozen=True)
class WorkloadIdentity:
    name: str
    arn: str
    return_urls: tuple[str, ...]

    def rows(self) -> dict[str, Any]:
        return {
            "Name": self.name,
            "ARN": self.arn,
            "Allowed return URLs": ", ".join(self.return_urls) or "(none yet)",
        }


def create_credential_provider(
    backend: Backend, state: WorkshopState, pools: CognitoSetup
) -> CredentialProvider:
    """The quickstart's `CustomOauth2` provider for the identity pool, its callback registered."""
    name = f"{PROVIDER_NAME}-{state.suffix}"
    if state.get("credential_provider") is None:
        with explain(f"Creating the credential provider {name}"):
            backend.client("bedrock-agentcore-control").create_oauth2_credential_provider(
                name=name,
                credentialProviderVendor="CustomOauth2",
                oauth2ProviderConfigInput={
                    "customOauth2ProviderConfig": {
                        "oauthDiscovery": {"discoveryUrl": pools.identity.discovery_url},
                        "clientId": pools.identity.client_id,
                        "clientSecret": pools.identity.client_secret,
                    }
                },
            )
        state.record("credential_provider", "oauth2-credential-provider", name=name)
    created = provider(backend, state)
    register_callback_url(backend, pools.identity, created.callback_url)
    return created


def provider(backend: Backend, state: WorkshopState) -> CredentialProvider:
    """The credential provider 04_credential_provider created, as AgentCore Identity has it."""
    entry = state.get("credential_provider")
    if entry is None:
        raise WorkshopError("The workshop has no credential provider: run 04_credential_provider.")
    with explain(f"Reading the credential provider {entry['name']}"):
        answer = backend.client("bedrock-agentcore-control").get_oauth2_credential_provider(
            name=entry["name"]
        )
    config = answer["oauth2ProviderConfigOutput"]["customOauth2ProviderConfig"]
    return CredentialProvider(
        name=answer["name"],
        arn=answer["credentialProviderArn"],
        vendor=answer["credentialProviderVendor"],
        callback_url=answer["callbackUrl"],
        secret_arn=answer["clientSecretArn"]["secretArn"],
        discovery_url=config["oauthDiscovery"]["discoveryUrl"],
    )


def _app_client(cognito, pool: Pool) -> dict[str, Any]:
    with explain("Reading the identity pool's app client"):
        return cognito.describe_user_pool_client(UserPoolId=pool.pool_id, ClientId=pool.client_id)[
            "UserPoolClient"
        ]


def callback_urls(backend: Backend, pool: Pool) -> list[str]:
    """Where the pool's hosted UI may send a browser back to after sign-in."""
    return _app_client(backend.client("cognito-idp"), pool).get("CallbackURLs", [])


def register_callback_url(backend: Backend, pool: Pool, url: str) -> list[str]:
    """Allow ``url`` as a redirect target of the pool's client; return the full list.

    UpdateUserPoolClient resets every setting it is not sent, so send back all of them.
    """
    cognito = backend.client("cognito-idp")
    client = _app_client(cognito, pool)
    urls = client.get("CallbackURLs", [])
    if url in urls:
        return urls
    updatable = cognito.meta.service_model.operation_model("UpdateUserPoolClient").input_shape
    settings = {k: v for k, v in client.items() if k in updatable.members}
    settings["CallbackURLs"] = [*urls, url]
    with explain("Registering the credential provider's callback URL on the identity pool"):
        cognito.update_user_pool_client(**settings)
    return settings["CallbackURLs"]


def token_vault(backend: Backend) -> dict[str, Any]:
    with explain("Reading the token vault"):
        vault = backend.client("bedrock-agentcore-control").get_token_vault()
    return {
        "Token vault": vault["tokenVaultId"],
        "Encryption key": vault["kmsConfiguration"]["keyType"],
    }


def _workload(answer: dict[str, Any]) -> WorkloadIdentity:
    return WorkloadIdentity(
        answer["name"],
        answer["workloadIdentityArn"],
        tuple(answer.get("allowedResourceOauth2ReturnUrls") or ()),
    )


def create_workload_identity(backend: Backend, state: WorkshopState) -> WorkloadIdentity:
    """The quickstart's `identity-demo-workload`, suffixed so workshops never collide."""
    control = backend.client("bedrock-agentcore-control")
    name = f"{WORKLOAD_NAME}-{state.suffix}"
    if state.get("workload_identity") is None:
        with explain(f"Creating the workload identity {name}"):
            control.create_workload_identity(name=name, allowedResourceOauth2ReturnUrls=[])
        state.record("workload_identity", "workload-identity", name=name)
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
    if "session_binding_url" not in state.data:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", int(os.environ.get(SESSION_BINDING_PORT, 0))))
            port = probe.getsockname()[1]
        state.data["session_binding_url"] = f"http://127.0.0.1:{port}/oauth2/callback"
        state.save()
    return state.data["session_binding_url"]


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
