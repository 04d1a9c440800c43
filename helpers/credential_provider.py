"""Quickstart step 5: the OAuth2 credential provider.

The **credential provider** tells AgentCore Identity how to get tokens from the external
service (here the identity pool): its discovery URL, client id and secret. The secret
goes into Secrets Manager; the tokens it obtains go into the **token vault**.
"""

from dataclasses import dataclass
from typing import Any, Protocol

from helpers.backend import Backend
from helpers.cognito import CognitoSetup, Pool
from helpers.display import Shown, Table, shown, table
from helpers.errors import WorkshopError, explain
from helpers.state import Kind, WorkshopState

PROVIDER_NAME = "ExternalServiceProvider"


@dataclass(frozen=True, repr=False)
class CredentialProvider(Shown):
    name: str = shown("Name")
    vendor: str = shown("Vendor")
    arn: str = shown("ARN")
    discovery_url: str = shown("Discovery URL")
    secret_arn: str = shown("Client secret (stored at)")
    callback_url: str = shown("Callback URL")


def ensure_credential_provider(
    backend: Backend, state: WorkshopState, pools: CognitoSetup
) -> CredentialProvider:
    """The quickstart's `CustomOauth2` provider for the identity pool, its callback registered."""
    identity = pools.identity
    name = f"{PROVIDER_NAME}-{state.suffix}"
    created = ensure_custom_provider(
        backend, state, "credential_provider", name, identity.discovery_url, identity
    )
    register_callback_url(backend, identity, created.callback_url)
    return created


class AppClient(Protocol):
    """An OAuth client of the provider: the quickstart's identity client, or 09's machine one."""

    client_id: str
    client_secret: str | None


def create_custom_provider(
    backend: Backend, name: str, discovery_url: str, client: AppClient
) -> None:
    """A `CustomOauth2` provider for ``client``; AWS keeps its secret in Secrets Manager."""
    with explain(f"Creating the credential provider {name}"):
        backend.client("bedrock-agentcore-control").create_oauth2_credential_provider(
            name=name,
            credentialProviderVendor="CustomOauth2",
            oauth2ProviderConfigInput={
                "customOauth2ProviderConfig": {
                    "oauthDiscovery": {"discoveryUrl": discovery_url},
                    "clientId": client.client_id,
                    "clientSecret": client.client_secret,
                }
            },
        )


def ensure_custom_provider(
    backend: Backend,
    state: WorkshopState,
    key: str,
    name: str,
    discovery_url: str,
    client: AppClient,
    notebook: str = "04_credential_provider",
) -> CredentialProvider:
    """The `CustomOauth2` provider the ledger names ``key``, created for ``client`` if new."""
    if state.get(key) is None:
        create_custom_provider(backend, name, discovery_url, client)
        state.record(key, Kind.CREDENTIAL_PROVIDER, name=name, notebook=notebook)
    return recorded_credential_provider(backend, state, key, notebook)


def recorded_credential_provider(
    backend: Backend,
    state: WorkshopState,
    key: str = "credential_provider",
    notebook: str = "04_credential_provider",
) -> CredentialProvider:
    """The credential provider a notebook created (ledger ``key``), as AgentCore Identity has it."""
    entry = state.get(key)
    if entry is None:
        raise WorkshopError(f"The workshop has no such credential provider: run {notebook}.")
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


def token_vault(backend: Backend) -> Table:
    """The account's token vault, where AgentCore Identity keeps the users' tokens."""
    with explain("Reading the token vault"):
        vault = backend.client("bedrock-agentcore-control").get_token_vault()
    return table(
        {
            "Token vault": vault["tokenVaultId"],
            "Encryption key": vault["kmsConfiguration"]["keyType"],
        }
    )
