"""AgentCore Identity over HTTP: control plane and data plane, thin over `models.py`."""

from collections.abc import Callable
from typing import Any

from moto.core.responses import ActionResult, EmptyResult

from emulator import policies
from emulator.identity.models import (
    API_KEY_PROVIDER,
    OAUTH2_PROVIDER,
    TOKEN_VAULT,
    IdentityBackend,
    Resource,
    identity_backends,
    in_token_vault,
)
from emulator.service import ModelResponse


def _name(item: dict) -> str:
    return item["name"]


def _described(resource: Resource) -> ActionResult:
    return ActionResult(resource.describe())


class _IdentityResponse(ModelResponse):
    @property
    def backend(self) -> IdentityBackend:
        return identity_backends[self.current_account][self.region]


class IdentityControlResponse(_IdentityResponse):
    SERVICE = "bedrock-agentcore-control"

    @property
    def _named(self) -> str:
        return self._get_param("name")

    def _deleted(self, delete: Callable[[str], None]) -> ActionResult:
        delete(self._named)
        return EmptyResult()

    def _listed(self, resources: dict[str, Resource], key: str) -> ActionResult:
        described = [resource.describe() for resource in resources.copy().values()]
        return self.paginated(described, key, _name)

    def _return_urls(self) -> list[str] | None:
        return self._get_param("allowedResourceOauth2ReturnUrls")

    def _oauth2_config(self) -> tuple[str, dict[str, Any]]:
        vendor = self._get_param("credentialProviderVendor")
        return vendor, self._get_param("oauth2ProviderConfigInput")

    # Create and update: each kind of resource reads its own fields of the request.

    def create_workload_identity(self) -> ActionResult:
        return _described(self.backend.create_workload_identity(self._named, self._return_urls()))

    def update_workload_identity(self) -> ActionResult:
        return _described(self.backend.update_workload_identity(self._named, self._return_urls()))

    def create_oauth2_credential_provider(self) -> ActionResult:
        create = self.backend.create_oauth2_credential_provider
        return _described(create(self._named, *self._oauth2_config()))

    def update_oauth2_credential_provider(self) -> ActionResult:
        update = self.backend.update_oauth2_credential_provider
        return _described(update(self._named, *self._oauth2_config()))

    def _api_key(self) -> tuple[str | None, str | None]:
        if self._get_param("apiKeySecretConfig") is not None:
            return None, "EXTERNAL"  # a secret of the caller's own: not served here
        return self._get_param("apiKey"), self._get_param("apiKeySecretSource")

    def create_api_key_credential_provider(self) -> ActionResult:
        create = self.backend.create_api_key_credential_provider
        return _described(create(self._named, *self._api_key()))

    def update_api_key_credential_provider(self) -> ActionResult:
        update = self.backend.update_api_key_credential_provider
        return _described(update(self._named, *self._api_key()))

    # Get, delete and list: the same for every kind, by name.

    def get_workload_identity(self) -> ActionResult:
        identity = self.backend.get_workload_identity(self._named)
        self.backend.answered([identity.name])
        return _described(identity)

    def get_oauth2_credential_provider(self) -> ActionResult:
        return _described(self.backend.get_oauth2_credential_provider(self._named))

    def get_api_key_credential_provider(self) -> ActionResult:
        return _described(self.backend.get_api_key_credential_provider(self._named))

    def delete_workload_identity(self) -> ActionResult:
        return self._deleted(self.backend.delete_workload_identity)

    def delete_oauth2_credential_provider(self) -> ActionResult:
        return self._deleted(self.backend.delete_oauth2_credential_provider)

    def delete_api_key_credential_provider(self) -> ActionResult:
        return self._deleted(self.backend.delete_api_key_credential_provider)

    def list_workload_identities(self) -> ActionResult:
        answer = self._listed(self.backend.workload_identities, "workloadIdentities")
        self.backend.answered(item["name"] for item in answer.result["workloadIdentities"])
        return answer

    def list_oauth2_credential_providers(self) -> ActionResult:
        return self._listed(self.backend.oauth2_providers, "credentialProviders")

    def list_api_key_credential_providers(self) -> ActionResult:
        return self._listed(self.backend.api_key_providers, "credentialProviders")

    def get_token_vault(self) -> ActionResult:
        return ActionResult(self.backend.get_token_vault(self._get_param("tokenVaultId")))


class IdentityDataResponse(_IdentityResponse):
    """The data plane; a caller who is a role (a deployed agent) needs its IAM allowance."""

    SERVICE = "bedrock-agentcore"

    def _arn(self, resource: str) -> str:
        return f"arn:aws:bedrock-agentcore:{self.region}:{self.current_account}:{resource}"

    def _authorize(self, action: str, workload: str, provider: str | None = None) -> None:
        """IAM checks the workload identity and its directory, and for a credential the
        token vault and the provider, in the form IAM uses (`token-vault/…`, not the
        `acps` ARN the control plane answers with)."""
        directory = self._arn("workload-identity-directory/default")
        resources = [directory, f"{directory}/workload-identity/{workload}"]
        if provider is not None:
            resources += [self._arn(f"token-vault/{TOKEN_VAULT}"), self._arn(provider)]
        policies.authorize(self.headers, f"bedrock-agentcore:{action}", resources)

    def _authorize_credential(self, action: str, kind: str) -> None:
        """For a credential: the workload named by the request's workload access token."""
        owner = self.backend.read_workload_access_token(self._get_param("workloadIdentityToken"))
        provider = in_token_vault(kind, self._get_param("resourceCredentialProviderName"))
        self._authorize(action, owner.workload, provider)

    def get_workload_access_token(self) -> ActionResult:
        self._authorize("GetWorkloadAccessToken", self._get_param("workloadName"))
        token = self.backend.workload_access_token(self._get_param("workloadName"))
        return ActionResult({"workloadAccessToken": token})

    def get_workload_access_token_for_user_id(self) -> ActionResult:
        self._authorize("GetWorkloadAccessTokenForUserId", self._get_param("workloadName"))
        token = self.backend.workload_access_token(
            self._get_param("workloadName"), user_id=self._get_param("userId")
        )
        return ActionResult({"workloadAccessToken": token})

    def get_workload_access_token_for_jwt(self) -> ActionResult:
        self._authorize("GetWorkloadAccessTokenForJWT", self._get_param("workloadName"))
        token = self.backend.workload_access_token_for_jwt(
            self._get_param("workloadName"), self._get_param("userToken")
        )
        return ActionResult({"workloadAccessToken": token})

    def get_resource_api_key(self) -> ActionResult:
        self._authorize_credential("GetResourceApiKey", API_KEY_PROVIDER)
        api_key = self.backend.get_resource_api_key(
            self._get_param("workloadIdentityToken"),
            self._get_param("resourceCredentialProviderName"),
        )
        return ActionResult({"apiKey": api_key})

    def get_resource_oauth2_token(self) -> ActionResult:
        self._authorize_credential("GetResourceOauth2Token", OAUTH2_PROVIDER)
        return ActionResult(
            self.backend.get_resource_oauth2_token(
                self._get_param("workloadIdentityToken"),
                self._get_param("resourceCredentialProviderName"),
                self._get_param("scopes") or [],
                self._get_param("oauth2Flow"),
                session_uri=self._get_param("sessionUri"),
                return_url=self._get_param("resourceOauth2ReturnUrl"),
                force=bool(self._get_param("forceAuthentication")),
                custom_state=self._get_param("customState"),
                custom_parameters=self._get_param("customParameters"),
            )
        )

    def complete_resource_token_auth(self) -> ActionResult:
        self.backend.complete_resource_token_auth(
            self._get_param("sessionUri"), self._get_param("userIdentifier")
        )
        return ActionResult({})
