"""AgentCore Identity over HTTP: control plane and data plane, thin over `models.py`."""

from moto.core.responses import ActionResult, EmptyResult

from emulator.identity.models import IdentityBackend, identity_backends
from emulator.service import ModelResponse


def _name(item: dict) -> str:
    return item["name"]


class _IdentityResponse(ModelResponse):
    @property
    def backend(self) -> IdentityBackend:
        return identity_backends[self.current_account][self.region]


class IdentityControlResponse(_IdentityResponse):
    SERVICE = "bedrock-agentcore-control"

    def create_workload_identity(self) -> ActionResult:
        identity = self.backend.create_workload_identity(
            self._get_param("name"), self._get_param("allowedResourceOauth2ReturnUrls")
        )
        return ActionResult(identity.describe())

    def get_workload_identity(self) -> ActionResult:
        return ActionResult(self.backend.get_workload_identity(self._get_param("name")).describe())

    def update_workload_identity(self) -> ActionResult:
        identity = self.backend.update_workload_identity(
            self._get_param("name"), self._get_param("allowedResourceOauth2ReturnUrls")
        )
        return ActionResult(identity.describe())

    def delete_workload_identity(self) -> ActionResult:
        self.backend.delete_workload_identity(self._get_param("name"))
        return EmptyResult()

    def list_workload_identities(self) -> ActionResult:
        identities = [w.describe() for w in self.backend.workload_identities.copy().values()]
        return self.paginated(identities, "workloadIdentities", _name)

    def create_oauth2_credential_provider(self) -> ActionResult:
        provider = self.backend.create_oauth2_credential_provider(
            self._get_param("name"),
            self._get_param("credentialProviderVendor"),
            self._get_param("oauth2ProviderConfigInput"),
        )
        return ActionResult(provider.describe())

    def get_oauth2_credential_provider(self) -> ActionResult:
        provider = self.backend.get_oauth2_credential_provider(self._get_param("name"))
        return ActionResult(provider.describe())

    def update_oauth2_credential_provider(self) -> ActionResult:
        provider = self.backend.update_oauth2_credential_provider(
            self._get_param("name"),
            self._get_param("credentialProviderVendor"),
            self._get_param("oauth2ProviderConfigInput"),
        )
        return ActionResult(provider.describe())

    def delete_oauth2_credential_provider(self) -> ActionResult:
        self.backend.delete_oauth2_credential_provider(self._get_param("name"))
        return EmptyResult()

    def list_oauth2_credential_providers(self) -> ActionResult:
        providers = [p.describe() for p in self.backend.oauth2_providers.copy().values()]
        return self.paginated(providers, "credentialProviders", _name)

    def create_api_key_credential_provider(self) -> ActionResult:
        provider = self.backend.create_api_key_credential_provider(
            self._get_param("name"), self._get_param("apiKey")
        )
        return ActionResult(provider.describe())

    def get_api_key_credential_provider(self) -> ActionResult:
        provider = self.backend.get_api_key_credential_provider(self._get_param("name"))
        return ActionResult(provider.describe())

    def delete_api_key_credential_provider(self) -> ActionResult:
        self.backend.delete_api_key_credential_provider(self._get_param("name"))
        return EmptyResult()

    def list_api_key_credential_providers(self) -> ActionResult:
        providers = [p.describe() for p in self.backend.api_key_providers.copy().values()]
        return self.paginated(providers, "credentialProviders", _name)

    def get_token_vault(self) -> ActionResult:
        return ActionResult(self.backend.get_token_vault(self._get_param("tokenVaultId")))


class IdentityDataResponse(_IdentityResponse):
    SERVICE = "bedrock-agentcore"

    def get_workload_access_token(self) -> ActionResult:
        token = self.backend.workload_access_token(self._get_param("workloadName"))
        return ActionResult({"workloadAccessToken": token})

    def get_workload_access_token_for_user_id(self) -> ActionResult:
        token = self.backend.workload_access_token(
            self._get_param("workloadName"), user_id=self._get_param("userId")
        )
        return ActionResult({"workloadAccessToken": token})

    def get_workload_access_token_for_jwt(self) -> ActionResult:
        token = self.backend.workload_access_token_for_jwt(
            self._get_param("workloadName"), self._get_param("userToken")
        )
        return ActionResult({"workloadAccessToken": token})

    def get_resource_api_key(self) -> ActionResult:
        api_key = self.backend.get_resource_api_key(
            self._get_param("workloadIdentityToken"),
            self._get_param("resourceCredentialProviderName"),
        )
        return ActionResult({"apiKey": api_key})

    def get_resource_oauth2_token(self) -> ActionResult:
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
