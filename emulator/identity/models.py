"""AgentCore Identity: credential providers, workload identities, the token vault.

Plain state and logic, one backend per account and region (moto's `BackendDict`, so
`/moto-api/reset` clears it too); `responses.py` is the thin HTTP layer over it.
"""

import hashlib
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from moto.core.base_backend import BaseBackend

from emulator import secrets, site
from emulator.backends import agentcore_backends
from emulator.cognito.discovery import verify_user_token
from emulator.endpoints import AGENT, IDENTITY
from emulator.exceptions import (
    AccessDeniedException,
    ConflictException,
    NotImplementedByThisBackend,
    ResourceNotFoundException,
    UnauthorizedException,
    ValidationException,
)
from emulator.identity import tokens
from emulator.identity.federation import TokenVault
from emulator.trace import TRACES

# Vendors with a config key of their own; every other vendor uses the "included" key.
DEDICATED_CONFIG_KEYS = {
    "CustomOauth2": "customOauth2ProviderConfig",
    "GoogleOauth2": "googleOauth2ProviderConfig",
    "GithubOauth2": "githubOauth2ProviderConfig",
    "SlackOauth2": "slackOauth2ProviderConfig",
    "SalesforceOauth2": "salesforceOauth2ProviderConfig",
    "MicrosoftOauth2": "microsoftOauth2ProviderConfig",
    "AtlassianOauth2": "atlassianOauth2ProviderConfig",
    "LinkedinOauth2": "linkedinOauth2ProviderConfig",
}
INCLUDED_CONFIG_KEY = "includedOauth2ProviderConfig"
INCLUDED_SERVER_MEMBERS = ("issuer", "authorizationEndpoint", "tokenEndpoint")
# The public authorization servers of the vendors with a config key of their own, as
# AWS answers them in oauth2ProviderConfigOutput (the model requires the metadata). A
# Microsoft tenant is named in the config ("common" if not).
VENDOR_SERVERS = {
    "GoogleOauth2": (
        "https://accounts.google.com",
        "https://accounts.google.com/o/oauth2/v2/auth",
        "https://oauth2.googleapis.com/token",
    ),
    "GithubOauth2": (
        "https://github.com",
        "https://github.com/login/oauth/authorize",
        "https://github.com/login/oauth/access_token",
    ),
    "SlackOauth2": (
        "https://slack.com",
        "https://slack.com/openid/connect/authorize",
        "https://slack.com/api/openid.connect.token",
    ),
    "SalesforceOauth2": (
        "https://login.salesforce.com",
        "https://login.salesforce.com/services/oauth2/authorize",
        "https://login.salesforce.com/services/oauth2/token",
    ),
    "MicrosoftOauth2": (
        "https://login.microsoftonline.com/{tenant}/v2.0",
        "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize",
        "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token",
    ),
    "AtlassianOauth2": (
        "https://auth.atlassian.com",
        "https://auth.atlassian.com/authorize",
        "https://auth.atlassian.com/oauth/token",
    ),
    "LinkedinOauth2": (
        "https://www.linkedin.com/oauth",
        "https://www.linkedin.com/oauth/v2/authorization",
        "https://www.linkedin.com/oauth/v2/accessToken",
    ),
}
# Vendors whose servers grant a user's consent only: no client-credentials grant, no M2M.
USER_CONSENT_ONLY = frozenset(
    {"GoogleOauth2", "GithubOauth2", "SlackOauth2", "AtlassianOauth2", "LinkedinOauth2"}
)
SECRET_JSON_KEY = "client_secret"
API_KEY_JSON_KEY = "api_key_value"
TOKEN_VAULT = "default"
OAUTH2_PROVIDER, API_KEY_PROVIDER = "oauth2credentialprovider", "apikeycredentialprovider"


def in_token_vault(kind: str, name: str) -> str:
    """A credential provider's resource in the token vault: the same path in the ``acps``
    ARN the control plane answers with and in the ``bedrock-agentcore`` one IAM evaluates."""
    return f"token-vault/{TOKEN_VAULT}/{kind}/{name}"


T = TypeVar("T")


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(kw_only=True)
class Resource:
    """What every Identity resource answers besides its own fields: when it changed."""

    created: datetime = field(default_factory=now)
    updated: datetime = field(default_factory=now)

    def describe(self) -> dict[str, Any]:
        return {**self._fields(), "createdTime": self.created, "lastUpdatedTime": self.updated}

    def _fields(self) -> dict[str, Any]:
        raise NotImplementedError


@dataclass
class WorkloadIdentity(Resource):
    name: str
    arn: str
    return_urls: list[str]
    linked_to: str | None = None  # the runtime that created it, if one did
    retired: bool = False  # its runtime is gone: the next read that finds it is the last

    def _fields(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "workloadIdentityArn": self.arn,
            "allowedResourceOauth2ReturnUrls": self.return_urls,
        }


@dataclass
class Oauth2Provider(Resource):
    name: str
    vendor: str
    arn: str
    secret_arn: str
    config_key: str
    config: dict[str, Any]  # as given, without the client secret; a vendor's servers added
    callback_url: str = field(
        default_factory=lambda: f"{site.base_url}/identities/oauth2/callback/{uuid.uuid4()}"
    )

    def _fields(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "credentialProviderVendor": self.vendor,
            "credentialProviderArn": self.arn,
            "clientSecretArn": {"secretArn": self.secret_arn},
            "clientSecretJsonKey": SECRET_JSON_KEY,
            "clientSecretSource": "MANAGED",
            "callbackUrl": self.callback_url,
            "oauth2ProviderConfigOutput": {self.config_key: _config_output(self.config)},
            "status": "READY",
        }


@dataclass
class ApiKeyProvider(Resource):
    name: str
    arn: str
    secret_arn: str

    def _fields(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "credentialProviderArn": self.arn,
            "apiKeySecretArn": {"secretArn": self.secret_arn},
            "apiKeySecretJsonKey": API_KEY_JSON_KEY,
            "apiKeySecretSource": "MANAGED",
        }


def _found(items: dict[str, T], name: str, what: str) -> T:
    if name not in items:
        raise ResourceNotFoundException(f"{what} {name} not found.")
    return items[name]


def _unused(items: dict[str, Any], name: str, what: str) -> None:
    if name in items:
        raise ConflictException(f"A {what} named {name} already exists.")


def _managed_api_key(api_key: str | None, source: str | None) -> str:
    """The key to keep in the provider's own secret (``MANAGED``, the only source served here)."""
    if source not in (None, "MANAGED"):
        raise NotImplementedByThisBackend(
            f"The local backend keeps API keys only in secrets it manages, not {source}."
        )
    if not api_key:
        raise ValidationException("apiKey is required when the API key secret is MANAGED.")
    return api_key


def _config_output(config: dict[str, Any]) -> dict[str, Any]:
    """What AWS shows of a provider config: discovery and client id, never the secret."""
    if "oauthDiscovery" in config:
        return {k: v for k, v in config.items() if k != "clientSecret"}
    metadata = {
        "issuer": config.get("issuer"),
        "authorizationEndpoint": config.get("authorizationEndpoint"),
        "tokenEndpoint": config.get("tokenEndpoint"),
    }
    output: dict[str, Any] = {"clientId": config.get("clientId")}
    if any(metadata.values()):
        output["oauthDiscovery"] = {"authorizationServerMetadata": metadata}
    return output


class IdentityBackend(BaseBackend):
    def __init__(self, region_name: str, account_id: str):
        super().__init__(region_name, account_id)
        self.lock = threading.Lock()
        self.workload_identities: dict[str, WorkloadIdentity] = {}
        self.oauth2_providers: dict[str, Oauth2Provider] = {}
        self.api_key_providers: dict[str, ApiKeyProvider] = {}
        self.vault = TokenVault()
        self.vault_created = now()

    def _arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region_name}:{self.account_id}:{resource}"

    def _secret_name(self, kind: str, name: str) -> str:
        return f"bedrock-agentcore-identity!{TOKEN_VAULT}/{kind}/{name}"

    def _store_secret(self, kind: str, name: str, value: dict[str, str]) -> str:
        return secrets.store(
            self.account_id, self.region_name, self._secret_name(kind, name), value
        )

    def _read_secret(self, kind: str, name: str) -> dict[str, str]:
        return secrets.read(self.account_id, self.region_name, self._secret_name(kind, name))

    def _delete_secret(self, kind: str, name: str) -> None:
        secrets.delete(self.account_id, self.region_name, self._secret_name(kind, name))

    # Workload identities

    def create_workload_identity(
        self, name: str, return_urls: list[str] | None, linked_to: str | None = None
    ) -> WorkloadIdentity:
        with self.lock:
            _unused(self.workload_identities, name, "workload identity")
            resource = f"workload-identity-directory/default/workload-identity/{name}"
            arn = self._arn("bedrock-agentcore", resource)
            identity = WorkloadIdentity(name, arn, return_urls or [], linked_to)
            self.workload_identities[name] = identity
        return identity

    def get_workload_identity(self, name: str) -> WorkloadIdentity:
        return _found(self.workload_identities, name, "Workload identity")

    def update_workload_identity(
        self, name: str, return_urls: list[str] | None
    ) -> WorkloadIdentity:
        identity = self.get_workload_identity(name)
        identity.return_urls = list(return_urls or [])
        identity.updated = now()
        return identity

    def delete_workload_identity(self, name: str) -> None:
        if self.get_workload_identity(name).linked_to:
            raise AccessDeniedException(
                "WorkloadIdentity is linked to a service and cannot be deleted by the caller"
            )
        self.workload_identities.pop(name, None)

    def retire_workload_identity(self, name: str) -> None:
        """The runtime that created it is gone, and AgentCore removes it after, in its own
        time (reported: with the runtime, innovation-sandbox-on-aws#67; never, aws-nuke#835).
        Here the next read that finds it is the last: a caller that checks right after the
        runtime is gone sees it linger once, every time, as a proof of cleanup must expect."""
        self.get_workload_identity(name).retired = True

    def answered(self, names: Iterable[str]) -> None:
        """A Get or a List page showed these: a retired one is gone from now on."""
        for name in names:
            identity = self.workload_identities.get(name)
            if identity is not None and identity.retired:
                self.workload_identities.pop(name, None)

    # OAuth2 credential providers

    def _config_for(self, vendor: str, config_input: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        expected = DEDICATED_CONFIG_KEYS.get(vendor, INCLUDED_CONFIG_KEY)
        (given, config), *_ = config_input.items()
        if given != expected:
            raise ValidationException(
                f"credentialProviderVendor {vendor} takes {expected}, not {given}."
            )
        if vendor in VENDOR_SERVERS:
            tenant = config.get("tenantId") or "common"
            issuer, authorize, token = (url.format(tenant=tenant) for url in VENDOR_SERVERS[vendor])
            metadata = {
                "issuer": issuer,
                "authorizationEndpoint": authorize,
                "tokenEndpoint": token,
            }
            config = {**config, "oauthDiscovery": {"authorizationServerMetadata": metadata}}
        elif given == INCLUDED_CONFIG_KEY:
            missing = [k for k in INCLUDED_SERVER_MEMBERS if not isinstance(config.get(k), str)]
            if missing:
                raise ValidationException(
                    f"The local backend does not know {vendor}'s servers: give "
                    f"{', '.join(missing)} in {INCLUDED_CONFIG_KEY}."
                )
        return given, config

    def create_oauth2_credential_provider(
        self, name: str, vendor: str, config_input: dict[str, Any]
    ) -> Oauth2Provider:
        key, config = self._config_for(vendor, config_input)
        with self.lock:
            _unused(self.oauth2_providers, name, "credential provider")
            secret_arn = self._store_secret(
                "oauth2", name, {SECRET_JSON_KEY: config.get("clientSecret", "")}
            )
            provider = Oauth2Provider(
                name=name,
                vendor=vendor,
                arn=self._arn("acps", in_token_vault(OAUTH2_PROVIDER, name)),
                secret_arn=secret_arn,
                config_key=key,
                config={k: v for k, v in config.items() if k != "clientSecret"},
            )
            self.oauth2_providers[name] = provider
        return provider

    def get_oauth2_credential_provider(self, name: str) -> Oauth2Provider:
        return _found(self.oauth2_providers, name, "Credential provider")

    def update_oauth2_credential_provider(
        self, name: str, vendor: str, config_input: dict[str, Any]
    ) -> Oauth2Provider:
        provider = self.get_oauth2_credential_provider(name)
        key, config = self._config_for(vendor, config_input)
        if "clientSecret" in config:
            self._store_secret("oauth2", name, {SECRET_JSON_KEY: config["clientSecret"]})
        provider.vendor, provider.config_key = vendor, key
        provider.config = {k: v for k, v in config.items() if k != "clientSecret"}
        provider.updated = now()
        return provider

    def delete_oauth2_credential_provider(self, name: str) -> None:
        self.get_oauth2_credential_provider(name)
        self.oauth2_providers.pop(name, None)
        self._delete_secret("oauth2", name)

    def client_secret(self, provider: Oauth2Provider) -> str:
        return self._read_secret("oauth2", provider.name)[SECRET_JSON_KEY]

    # API-key credential providers

    def create_api_key_credential_provider(
        self, name: str, api_key: str | None, source: str | None = None
    ) -> ApiKeyProvider:
        api_key = _managed_api_key(api_key, source)
        with self.lock:
            _unused(self.api_key_providers, name, "credential provider")
            secret_arn = self._store_secret("apikey", name, {API_KEY_JSON_KEY: api_key})
            arn = self._arn("acps", in_token_vault(API_KEY_PROVIDER, name))
            provider = ApiKeyProvider(name, arn, secret_arn)
            self.api_key_providers[name] = provider
        return provider

    def get_api_key_credential_provider(self, name: str) -> ApiKeyProvider:
        return _found(self.api_key_providers, name, "Credential provider")

    def update_api_key_credential_provider(
        self, name: str, api_key: str | None, source: str | None = None
    ) -> ApiKeyProvider:
        """Rotate the key: a new version of the same secret (its ARN stays), as AWS does."""
        api_key = _managed_api_key(api_key, source)
        provider = self.get_api_key_credential_provider(name)
        self._store_secret("apikey", name, {API_KEY_JSON_KEY: api_key})
        provider.updated = now()
        return provider

    def delete_api_key_credential_provider(self, name: str) -> None:
        self.get_api_key_credential_provider(name)
        self.api_key_providers.pop(name, None)
        self._delete_secret("apikey", name)

    def get_token_vault(self, vault_id: str | None) -> dict[str, Any]:
        if vault_id not in (None, TOKEN_VAULT):
            raise ResourceNotFoundException(f"Token vault {vault_id} not found.")
        return {
            "tokenVaultId": TOKEN_VAULT,
            "kmsConfiguration": {"keyType": "ServiceManagedKey"},
            "lastModifiedDate": self.vault_created,
        }

    # Data plane: workload access tokens and API keys

    def workload_access_token(self, workload: str, **user: str) -> str:
        """What a caller gets; an identity a runtime created is the runtime's alone."""
        if self.get_workload_identity(workload).linked_to:
            raise AccessDeniedException(
                "WorkloadIdentity is linked to a service and cannot retrieve an access token "
                "by the caller"
            )
        return tokens.issue(self.account_id, self.region_name, workload, **user)

    def service_workload_access_token(self, workload: str, **user: str) -> str:
        """What AgentCore Runtime mints for its own workload identity on each invocation."""
        self.get_workload_identity(workload)
        return tokens.issue(self.account_id, self.region_name, workload, **user)

    def workload_access_token_for_jwt(self, workload: str, user_token: str) -> str:
        try:
            claims = verify_user_token(user_token)
        except ValueError as error:
            raise UnauthorizedException(f"The user token is not valid: {error}.") from error
        return self.workload_access_token(
            workload,
            issuer=claims["iss"],
            subject=claims["sub"],
            user_token_sha256=sha256(user_token),
        )

    def read_workload_access_token(self, value: str) -> tokens.WorkloadToken:
        return tokens.read(value, self.account_id, self.region_name)

    def get_resource_oauth2_token(
        self,
        workload_token: str,
        provider_name: str,
        scopes: list[str],
        flow: str,
        session_uri: str | None = None,
        return_url: str | None = None,
        force: bool = False,
        custom_state: str | None = None,
        custom_parameters: dict[str, str] | None = None,
    ) -> dict[str, str]:
        owner = self.read_workload_access_token(workload_token)
        with TRACES.hop(owner.trace, AGENT, IDENTITY, f"GetResourceOauth2Token ({flow})") as hop:
            provider = self.get_oauth2_credential_provider(provider_name)
            if flow == "M2M" and provider.vendor in USER_CONSENT_ONLY:
                raise ValidationException(
                    f"Credential provider {provider.name} ({provider.vendor}) does not support "
                    "the M2M flow: its vendor grants tokens only with a user's consent."
                )
            if flow == "M2M":
                token = self.vault.machine_token(
                    provider.name, provider.config, self.client_secret(provider), scopes
                )
                answer = {"accessToken": token}
            elif flow == "USER_FEDERATION":
                answer = self.vault.user_federation(
                    owner,
                    provider.name,
                    scopes,
                    self.get_workload_identity(owner.workload).return_urls,
                    session_uri,
                    return_url,
                    force,
                    custom_state,
                    custom_parameters,
                )
            else:
                raise ValidationException(
                    f"The local backend runs USER_FEDERATION and M2M, not {flow}."
                )
            hop.label += ": access token" if "accessToken" in answer else ": authorization URL"
        return answer

    def complete_resource_token_auth(self, session_uri: str, user_identifier: dict) -> None:
        self.vault.complete(session_uri, user_identifier, sha256)

    def provider_by_callback(self, callback_url: str) -> Oauth2Provider | None:
        return next(
            (p for p in list(self.oauth2_providers.values()) if p.callback_url == callback_url),
            None,
        )

    def get_resource_api_key(self, workload_token: str, provider_name: str) -> str:
        self.read_workload_access_token(workload_token)
        provider = self.get_api_key_credential_provider(provider_name)
        return self._read_secret("apikey", provider.name)[API_KEY_JSON_KEY]


identity_backends = agentcore_backends(IdentityBackend)
