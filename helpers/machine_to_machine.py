"""Notebook 09: tokens for a machine, not a user (OAuth 2.0 client credentials, M2M).

A **resource server** on the identity pool defines custom scopes (``external-service/read``
and ``/write``); a **machine client** with a secret may use the client-credentials grant
for some of them only. A `CustomOauth2` credential provider for that client lets an agent
get tokens with ``auth_flow="M2M"``: no user signs in, nobody consents.
"""

from dataclasses import dataclass

import jwt

from helpers import authorizer
from helpers.backend import Backend
from helpers.cognito import CognitoSetup, Pool
from helpers.credential_provider import (
    CredentialProvider,
    ensure_custom_provider,
    recorded_credential_provider,
)
from helpers.display import Shown, shown
from helpers.errors import WorkshopError, explain
from helpers.state import Kind, WorkshopState

NOTEBOOK = "09_machine_to_machine"
RESOURCE_SERVER = "external-service"
SCOPES = {"read": "Read the external service", "write": "Change the external service"}
ALLOWED = ("read",)  # what the machine client may ask for: not write
PROVIDER_NAME = "MachineServiceProvider"


def scope(name: str) -> str:
    """A custom scope as a token carries it: ``<resource server>/<scope>``."""
    return f"{RESOURCE_SERVER}/{name}"


@dataclass(frozen=True, repr=False)
class MachineClient(Shown):
    resource_server: str = shown("Resource server")
    scopes: tuple[str, ...] = shown("Its scopes")
    client_id: str = shown("Machine client ID")
    client_secret: str = shown("Client secret")
    allowed: tuple[str, ...] = shown("Client may ask for")
    flows: tuple[str, ...] = shown("Grant")


def ensure_resource_server(backend: Backend, state: WorkshopState, pool: Pool) -> None:
    """The identity pool's ``external-service`` resource server and its two custom scopes."""
    if state.get("resource_server") is None:
        with explain(f"Creating the resource server {RESOURCE_SERVER}"):
            backend.client("cognito-idp").create_resource_server(
                UserPoolId=pool.pool_id,
                Identifier=RESOURCE_SERVER,
                Name="External service",
                Scopes=[{"ScopeName": n, "ScopeDescription": d} for n, d in SCOPES.items()],
            )
        state.record(
            "resource_server",
            Kind.RESOURCE_SERVER,
            pool_id=pool.pool_id,
            identifier=RESOURCE_SERVER,
            notebook=NOTEBOOK,
        )


def ensure_machine_client(
    backend: Backend, state: WorkshopState, pools: CognitoSetup
) -> MachineClient:
    """The resource server, and a confidential client allowed only ``external-service/read``."""
    pool = pools.identity
    ensure_resource_server(backend, state, pool)
    cognito = backend.client("cognito-idp")
    if state.get("machine_client") is None:
        with explain("Creating the machine client"):
            created = cognito.create_user_pool_client(
                UserPoolId=pool.pool_id,
                ClientName=f"MachineClient-{state.suffix}",
                GenerateSecret=True,
                AllowedOAuthFlows=["client_credentials"],
                AllowedOAuthScopes=[scope(name) for name in ALLOWED],
                AllowedOAuthFlowsUserPoolClient=True,
            )["UserPoolClient"]
        state.record(
            "machine_client",
            Kind.USER_POOL_CLIENT,
            id=created["ClientId"],
            pool_id=pool.pool_id,
            secret=created["ClientSecret"],
            notebook=NOTEBOOK,
        )
    return recorded_machine_client(backend, state)


def recorded_machine_client(backend: Backend, state: WorkshopState) -> MachineClient:
    """The machine client as Cognito has it now (its secret from the workshop state)."""
    entry, server = state.get("machine_client"), state.get("resource_server")
    if entry is None or server is None:
        raise WorkshopError(f"The workshop has no machine client: run {NOTEBOOK}.")
    cognito = backend.client("cognito-idp")
    with explain("Reading the machine client and its resource server"):
        app = cognito.describe_user_pool_client(UserPoolId=entry["pool_id"], ClientId=entry["id"])
        found = cognito.describe_resource_server(
            UserPoolId=server["pool_id"], Identifier=server["identifier"]
        )["ResourceServer"]
    app = app["UserPoolClient"]
    return MachineClient(
        resource_server=found["Identifier"],
        scopes=tuple(scope(s["ScopeName"]) for s in found["Scopes"]),
        client_id=app["ClientId"],
        client_secret=entry["secret"],
        allowed=tuple(app.get("AllowedOAuthScopes", [])),
        flows=tuple(app.get("AllowedOAuthFlows", [])),
    )


def ensure_machine_provider(
    backend: Backend, state: WorkshopState, pools: CognitoSetup, machine: MachineClient
) -> CredentialProvider:
    """A `CustomOauth2` provider for the machine client: the identity pool's discovery URL."""
    name = f"{PROVIDER_NAME}-{state.suffix}"
    discovery_url = pools.identity.discovery_url
    return ensure_custom_provider(
        backend, state, "machine_provider", name, discovery_url, machine, NOTEBOOK
    )


def recorded_machine_provider(backend: Backend, state: WorkshopState) -> CredentialProvider:
    """The M2M credential provider, as AgentCore Identity has it."""
    return recorded_credential_provider(backend, state, "machine_provider", NOTEBOOK)


def ask_cognito(backend: Backend, pool: Pool, machine: MachineClient, name: str) -> dict:
    """Ask the pool's token endpoint directly, as AgentCore Identity does for M2M.

    Shows Cognito's own answer: the token's scope when it grants one (never the token), or
    its OAuth 2.0 error. AgentCore Identity does not pass that error on.
    """
    endpoint = authorizer.discover(backend, pool.discovery_url)["token_endpoint"]
    answer = backend.http.post(
        endpoint,
        data={"grant_type": "client_credentials", "scope": scope(name)},
        auth=(machine.client_id, machine.client_secret),
        timeout=10,
    )
    body = answer.json()
    if "access_token" in body:  # its claims say what it is for (read, not verified)
        granted = jwt.decode(body["access_token"], options={"verify_signature": False})
        outcome = f"an access token with scope {granted.get('scope')!r}"
    else:
        outcome = body.get("error", answer.text)
    return {"Scope asked": scope(name), "HTTP status": answer.status_code, "Answer": outcome}
