"""Notebook 10: an API-key credential provider, and rotating its key.

Many services take a static API key rather than OAuth. AgentCore Identity keeps it in
Secrets Manager behind an **API-key credential provider**; an agent asks for it with
`@requires_api_key` and its workload access token, so the key never sits in the agent's
code, environment or image. The workshop never shows a key: only where it is stored and
a short fingerprint (a SHA-256 prefix), which is what the agent reports too.
"""

import hashlib
import secrets
from dataclasses import dataclass

from helpers.backend import Backend
from helpers.display import Shown, shown
from helpers.errors import WorkshopError, explain
from helpers.state import Kind, WorkshopState

NOTEBOOK = "10_api_keys"
PROVIDER_NAME = "ExternalServiceApiKey"


def new_api_key() -> str:
    """A stand-in for the key an external service would issue you."""
    return "wsk_" + secrets.token_urlsafe(32)


def fingerprint(api_key: str) -> str:
    """Which key it is, without the key: the first 12 hex digits of its SHA-256."""
    return "sha256:" + hashlib.sha256(api_key.encode()).hexdigest()[:12]


@dataclass(frozen=True, repr=False)
class ApiKeyProvider(Shown):
    name: str = shown("Name")
    arn: str = shown("ARN")
    secret_arn: str = shown("API key (stored at)")
    secret_source: str = shown("Secret managed by")
    fingerprint: str = shown("Fingerprint of the key")
    fields: tuple[str, ...] = shown("What AWS answers with")


def _store(backend: Backend, state: WorkshopState, name: str, operation: str) -> None:
    """Create or update the provider with a new key; only its fingerprint is remembered."""
    api_key = new_api_key()
    control = backend.client("bedrock-agentcore-control")
    with explain(f"{operation} the API-key credential provider {name}"):
        if operation == "Creating":
            control.create_api_key_credential_provider(name=name, apiKey=api_key)
        else:
            control.update_api_key_credential_provider(name=name, apiKey=api_key)
    state.record(
        "api_key_provider",
        Kind.API_KEY_PROVIDER,
        name=name,
        fingerprint=fingerprint(api_key),
        notebook=NOTEBOOK,
    )


def ensure_api_key_provider(backend: Backend, state: WorkshopState) -> ApiKeyProvider:
    """The workshop's API-key provider, created with a new key the first time."""
    if state.get("api_key_provider") is None:
        _store(backend, state, f"{PROVIDER_NAME}-{state.suffix}", "Creating")
    return recorded_api_key_provider(backend, state)


def rotate_api_key(backend: Backend, state: WorkshopState) -> ApiKeyProvider:
    """Give the provider a new key (UpdateApiKeyCredentialProvider): same secret, new value."""
    _store(backend, state, recorded_api_key_provider(backend, state).name, "Updating")
    return recorded_api_key_provider(backend, state)


def recorded_api_key_provider(backend: Backend, state: WorkshopState) -> ApiKeyProvider:
    """The provider as AgentCore Identity has it, with the fingerprint of its current key."""
    entry = state.get("api_key_provider")
    if entry is None:
        raise WorkshopError(f"The workshop has no API-key credential provider: run {NOTEBOOK}.")
    with explain(f"Reading the API-key credential provider {entry['name']}"):
        answer = backend.client("bedrock-agentcore-control").get_api_key_credential_provider(
            name=entry["name"]
        )
    return ApiKeyProvider(
        name=answer["name"],
        arn=answer["credentialProviderArn"],
        secret_arn=answer["apiKeySecretArn"]["secretArn"],
        secret_source=answer.get("apiKeySecretSource", "MANAGED"),
        fingerprint=entry["fingerprint"],
        fields=tuple(k for k in answer if k != "ResponseMetadata"),
    )
