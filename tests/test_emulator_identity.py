"""AgentCore Identity on the local backend, driven by boto3 and the real bedrock-agentcore SDK."""

import json
import uuid

import pytest
from bedrock_agentcore.identity.auth import requires_api_key
from bedrock_agentcore.services.identity import IdentityClient
from botocore.config import Config
from botocore.exceptions import ClientError

from helpers.workload_identity import write_local_dev_config
from tests.support import (
    REGION,
    client,
    error_of,
    from_an_unknown_issuer,
    pool_with_user,
    signed_with_motos_published_key,
    with_tampered_payload,
)

SECRET = "client-secret-" + uuid.uuid4().hex
UNVALIDATED = Config(parameter_validation=False, retries={"max_attempts": 1})


def _name(prefix: str = "p") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _custom(discovery: str = "http://127.0.0.1:1/pool/.well-known/openid-configuration"):
    return {
        "customOauth2ProviderConfig": {
            "oauthDiscovery": {"discoveryUrl": discovery},
            "clientId": "the-client",
            "clientSecret": SECRET,
        }
    }


@pytest.fixture(scope="module")
def clients(emulator_url):
    return lambda service, config=None: client(emulator_url, service, config=config)


@pytest.fixture(scope="module")
def control(clients):
    return clients("bedrock-agentcore-control")


@pytest.fixture(scope="module")
def data(clients):
    return clients("bedrock-agentcore")


@pytest.fixture
def sdk(sdk_environment) -> IdentityClient:
    return IdentityClient(REGION)


@pytest.fixture(scope="module")
def user_token(emulator_url):
    return pool_with_user(emulator_url)["access_token"]


# OAuth2 credential providers


def test_oauth2_provider_lifecycle_through_the_sdk(sdk):
    name = _name()
    created = sdk.create_oauth2_credential_provider(
        {
            "name": name,
            "credentialProviderVendor": "CustomOauth2",
            "oauth2ProviderConfigInput": _custom(),
        }
    )
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert created["credentialProviderArn"].endswith(
        f":token-vault/default/oauth2credentialprovider/{name}"
    )
    assert created["callbackUrl"].startswith(
        sdk.dp_client.meta.endpoint_url + "/identities/oauth2/callback/"
    )
    fetched = sdk.get_oauth2_credential_provider(name=name)
    assert fetched["credentialProviderVendor"] == "CustomOauth2"
    assert fetched["callbackUrl"] == created["callbackUrl"]
    assert (
        fetched["oauth2ProviderConfigOutput"]["customOauth2ProviderConfig"]["clientId"]
        == "the-client"
    )
    new_discovery = "http://127.0.0.1:2/other/.well-known/openid-configuration"
    sdk.update_oauth2_credential_provider(
        name=name,
        credential_provider_vendor="CustomOauth2",
        oauth2_provider_config_input=_custom(new_discovery),
    )
    updated = sdk.get_oauth2_credential_provider(name=name)["oauth2ProviderConfigOutput"]
    assert updated["customOauth2ProviderConfig"]["oauthDiscovery"]["discoveryUrl"] == new_discovery
    assert (
        sdk.delete_oauth2_credential_provider(name=name)["ResponseMetadata"]["HTTPStatusCode"]
        == 204
    )
    with pytest.raises(ClientError) as error:
        sdk.get_oauth2_credential_provider(name=name)
    assert error_of(error) == ("ResourceNotFoundException", 404)


@pytest.mark.parametrize(
    ("vendor", "config"),
    [
        ("CustomOauth2", _custom()),
        (
            "CustomOauth2",
            {
                "customOauth2ProviderConfig": {
                    "oauthDiscovery": {
                        "authorizationServerMetadata": {
                            "issuer": "http://127.0.0.1:1/issuer",
                            "authorizationEndpoint": "http://127.0.0.1:1/authorize",
                            "tokenEndpoint": "http://127.0.0.1:1/token",
                        }
                    },
                    "clientId": "c",
                    "clientSecret": SECRET,
                }
            },
        ),
        ("GoogleOauth2", {"googleOauth2ProviderConfig": {"clientId": "c", "clientSecret": SECRET}}),
        ("GithubOauth2", {"githubOauth2ProviderConfig": {"clientId": "c", "clientSecret": SECRET}}),
        ("SlackOauth2", {"slackOauth2ProviderConfig": {"clientId": "c", "clientSecret": SECRET}}),
        (
            "SalesforceOauth2",
            {"salesforceOauth2ProviderConfig": {"clientId": "c", "clientSecret": SECRET}},
        ),
        (
            "MicrosoftOauth2",
            {
                "microsoftOauth2ProviderConfig": {
                    "clientId": "c",
                    "clientSecret": SECRET,
                    "tenantId": "t",
                }
            },
        ),
        (
            "AtlassianOauth2",
            {"atlassianOauth2ProviderConfig": {"clientId": "c", "clientSecret": SECRET}},
        ),
        (
            "LinkedinOauth2",
            {"linkedinOauth2ProviderConfig": {"clientId": "c", "clientSecret": SECRET}},
        ),
        (
            "CognitoOauth2",
            {
                "includedOauth2ProviderConfig": {
                    "clientId": "c",
                    "clientSecret": SECRET,
                    "issuer": "http://127.0.0.1:1/issuer",
                    "authorizationEndpoint": "http://127.0.0.1:1/authorize",
                    "tokenEndpoint": "http://127.0.0.1:1/token",
                }
            },
        ),
        (
            "OktaOauth2",
            {
                "includedOauth2ProviderConfig": {
                    "clientId": "c",
                    "clientSecret": SECRET,
                    "issuer": "https://example.okta.com",
                    "authorizationEndpoint": "https://example.okta.com/oauth2/v1/authorize",
                    "tokenEndpoint": "https://example.okta.com/oauth2/v1/token",
                }
            },
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else next(iter(value)),
)
def test_every_vendor_and_config_shape_of_the_model_is_accepted(control, vendor, config):
    name = _name()
    control.create_oauth2_credential_provider(
        name=name, credentialProviderVendor=vendor, oauth2ProviderConfigInput=config
    )
    output = control.get_oauth2_credential_provider(name=name)["oauth2ProviderConfigOutput"]
    key = next(iter(config))
    assert list(output) == [key]
    assert output[key]["clientId"] == config[key]["clientId"]


def test_a_vendor_with_another_vendors_config_is_refused(control):
    with pytest.raises(ClientError) as error:
        control.create_oauth2_credential_provider(
            name=_name(),
            credentialProviderVendor="GoogleOauth2",
            oauth2ProviderConfigInput=_custom(),
        )
    assert error_of(error) == ("ValidationException", 400)
    assert "googleOauth2ProviderConfig" in error.value.response["Error"]["Message"]


def test_the_client_secret_is_kept_in_secrets_manager_and_never_returned(control, clients):
    raw_bodies: list[bytes] = []
    control.meta.events.register(
        "after-call.bedrock-agentcore-control.*",
        lambda http_response, **_: raw_bodies.append(http_response.content),
    )
    name = _name()
    created = control.create_oauth2_credential_provider(
        name=name, credentialProviderVendor="CustomOauth2", oauth2ProviderConfigInput=_custom()
    )
    control.get_oauth2_credential_provider(name=name)
    control.list_oauth2_credential_providers()
    control.update_oauth2_credential_provider(
        name=name, credentialProviderVendor="CustomOauth2", oauth2ProviderConfigInput=_custom()
    )
    control.meta.events.unregister("after-call.bedrock-agentcore-control.*")
    assert len(raw_bodies) == 4
    assert not [body for body in raw_bodies if SECRET.encode() in body]
    arn = created["clientSecretArn"]["secretArn"]
    assert f":secret:bedrock-agentcore-identity!default/oauth2/{name}" in arn
    stored = clients("secretsmanager").get_secret_value(SecretId=arn)["SecretString"]
    assert json.loads(stored)[created["clientSecretJsonKey"]] == SECRET


def test_deleting_a_provider_deletes_its_secret(control, clients):
    name = _name()
    arn = control.create_oauth2_credential_provider(
        name=name, credentialProviderVendor="CustomOauth2", oauth2ProviderConfigInput=_custom()
    )["clientSecretArn"]["secretArn"]
    control.delete_oauth2_credential_provider(name=name)
    with pytest.raises(ClientError) as error:
        clients("secretsmanager").get_secret_value(SecretId=arn)
    assert error_of(error)[0] == "ResourceNotFoundException"


def test_a_duplicate_provider_name_is_a_conflict(control):
    name = _name()
    config = {"credentialProviderVendor": "CustomOauth2", "oauth2ProviderConfigInput": _custom()}
    control.create_oauth2_credential_provider(name=name, **config)
    with pytest.raises(ClientError) as error:
        control.create_oauth2_credential_provider(name=name, **config)
    assert error_of(error) == ("ConflictException", 409)


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.get_oauth2_credential_provider(name="no-such-provider"),
        lambda c: c.delete_oauth2_credential_provider(name="no-such-provider"),
        lambda c: c.update_oauth2_credential_provider(
            name="no-such-provider",
            credentialProviderVendor="CustomOauth2",
            oauth2ProviderConfigInput=_custom(),
        ),
        lambda c: c.get_api_key_credential_provider(name="no-such-provider"),
        lambda c: c.get_workload_identity(name="no-such-workload"),
        lambda c: c.update_workload_identity(name="no-such-workload"),
        lambda c: c.delete_workload_identity(name="no-such-workload"),
        lambda c: c.get_token_vault(tokenVaultId="no-such-vault"),
    ],
    ids=["get", "delete", "update", "api-key", "workload", "update-wl", "delete-wl", "vault"],
)
def test_unknown_names_are_not_found(control, call):
    with pytest.raises(ClientError) as error:
        call(control)
    assert error_of(error) == ("ResourceNotFoundException", 404)


@pytest.mark.parametrize(
    ("operation", "params", "problem"),
    [
        ("create_oauth2_credential_provider", {"name": "x"}, "credentialProviderVendor"),
        (
            "create_oauth2_credential_provider",
            {
                "name": "has space",
                "credentialProviderVendor": "CustomOauth2",
                "oauth2ProviderConfigInput": _custom(),
            },
            "pattern",
        ),
        (
            "create_oauth2_credential_provider",
            {
                "name": "x",
                "credentialProviderVendor": "NoSuchVendor",
                "oauth2ProviderConfigInput": _custom(),
            },
            "one of",
        ),
        (
            "create_oauth2_credential_provider",
            {
                "name": "x",
                "credentialProviderVendor": "CustomOauth2",
                "oauth2ProviderConfigInput": {
                    **_custom(),
                    "googleOauth2ProviderConfig": {"clientId": "c"},
                },
            },
            "union",
        ),
        ("create_workload_identity", {"name": "ab"}, "length"),
        ("create_workload_identity", {"name": "x" * 256}, "255"),
        ("list_workload_identities", {"maxResults": 21}, "20"),
    ],
    ids=["missing", "pattern", "enum", "union", "min", "max", "range"],
)
def test_requests_the_model_forbids_are_validation_errors(clients, operation, params, problem):
    unchecked = clients("bedrock-agentcore-control", UNVALIDATED)
    with pytest.raises(ClientError) as error:
        getattr(unchecked, operation)(**params)
    assert error_of(error) == ("ValidationException", 400)
    assert problem in error.value.response["Error"]["Message"]


@pytest.mark.parametrize(
    ("create", "listing", "key"),
    [
        ("create_workload_identity", "list_workload_identities", "workloadIdentities"),
        (
            "create_api_key_credential_provider",
            "list_api_key_credential_providers",
            "credentialProviders",
        ),
    ],
)
def test_lists_are_paginated(control, create, listing, key):
    prefix = _name("page")
    for i in range(23):
        extra = {"apiKey": "k"} if "api_key" in create else {}
        getattr(control, create)(name=f"{prefix}-{i:02d}", **extra)
    first = getattr(control, listing)(maxResults=5)
    assert len(first[key]) == 5 and first["nextToken"]
    names = [
        item["name"]
        for page in control.get_paginator(listing).paginate(PaginationConfig={"PageSize": 7})
        for item in page[key]
    ]
    assert len(names) == len(set(names))
    assert {f"{prefix}-{i:02d}" for i in range(23)} <= set(names)
    with pytest.raises(ClientError) as error:
        getattr(control, listing)(nextToken="bm90LWEtdG9rZW4=")
    assert error_of(error) == ("ValidationException", 400)


# Workload identities and the token vault


def test_workload_identity_lifecycle(control, sdk):
    created = sdk.create_workload_identity()
    name = created["name"]
    assert name.startswith("workload-")
    assert created["workloadIdentityArn"].endswith(
        f":workload-identity-directory/default/workload-identity/{name}"
    )
    sdk.update_workload_identity(name, ["http://127.0.0.1:8081/a", "http://127.0.0.1:8081/b"])
    sdk.update_workload_identity(name, ["http://127.0.0.1:8081/c"])  # replaces the list
    assert sdk.get_workload_identity(name)["allowedResourceOauth2ReturnUrls"] == [
        "http://127.0.0.1:8081/c"
    ]
    assert control.delete_workload_identity(name=name)["ResponseMetadata"]["HTTPStatusCode"] == 204
    names = [
        w["name"]
        for p in control.get_paginator("list_workload_identities").paginate()
        for w in p["workloadIdentities"]
    ]
    assert name not in names


def test_a_duplicate_workload_identity_is_a_conflict(control):
    name = _name("wl")
    control.create_workload_identity(name=name)
    with pytest.raises(ClientError) as error:
        control.create_workload_identity(name=name)
    assert error_of(error) == ("ConflictException", 409)


def test_the_token_vault_is_the_default_one(control):
    vault = control.get_token_vault()
    assert vault["tokenVaultId"] == "default"
    assert vault["kmsConfiguration"]["keyType"] == "ServiceManagedKey"


# Data plane: workload access tokens and API keys


@pytest.fixture(scope="module")
def workload(control) -> str:
    return control.create_workload_identity(name=_name("wl"))["name"]


@pytest.fixture(scope="module")
def api_key_provider(control) -> tuple[str, str]:
    name, key = _name("key"), "api-key-" + uuid.uuid4().hex
    control.create_api_key_credential_provider(name=name, apiKey=key)
    return name, key


def test_workload_access_tokens_for_each_kind_of_caller(sdk, workload, user_token):
    tokens = {
        sdk.get_workload_access_token(workload)["workloadAccessToken"],
        sdk.get_workload_access_token(workload, user_id="alice")["workloadAccessToken"],
        sdk.get_workload_access_token(workload, user_token=user_token)["workloadAccessToken"],
    }
    assert len(tokens) == 3
    assert not [token for token in tokens if "alice" in token or workload in token]  # opaque


def test_a_token_for_an_unknown_workload_is_not_found(data):
    with pytest.raises(ClientError) as error:
        data.get_workload_access_token_for_user_id(workloadName="no-such-workload", userId="alice")
    assert error_of(error) == ("ResourceNotFoundException", 404)


@pytest.mark.parametrize(
    "forge", [with_tampered_payload, signed_with_motos_published_key, from_an_unknown_issuer]
)
def test_user_tokens_that_do_not_verify_are_refused(data, workload, user_token, forge):
    with pytest.raises(ClientError) as error:
        data.get_workload_access_token_for_jwt(workloadName=workload, userToken=forge(user_token))
    assert error_of(error) == ("UnauthorizedException", 401)


def test_get_resource_api_key_returns_the_stored_key(sdk, workload, api_key_provider):
    name, key = api_key_provider
    token = sdk.get_workload_access_token(workload, user_id="alice")["workloadAccessToken"]
    assert (
        sdk.dp_client.get_resource_api_key(
            workloadIdentityToken=token, resourceCredentialProviderName=name
        )["apiKey"]
        == key
    )


def test_get_resource_api_key_needs_a_genuine_workload_token(data, api_key_provider):
    with pytest.raises(ClientError) as error:
        data.get_resource_api_key(
            workloadIdentityToken="forged.token.value",
            resourceCredentialProviderName=api_key_provider[0],
        )
    assert error_of(error) == ("AccessDeniedException", 403)


def test_sdk_local_development_creates_a_workload_identity_and_agentcore_json(
    sdk_environment, api_key_provider, tmp_path, monkeypatch, control
):
    monkeypatch.chdir(tmp_path)
    name, key = api_key_provider

    @requires_api_key(provider_name=name)
    def call_service(*, api_key: str) -> str:
        return api_key

    assert call_service() == key
    config = json.loads((tmp_path / ".agentcore.json").read_text())
    assert control.get_workload_identity(name=config["workload_identity_name"])
    assert call_service() == key
    assert json.loads((tmp_path / ".agentcore.json").read_text()) == config  # reused, not recreated


def test_sdk_local_development_uses_the_workload_identity_it_is_pointed_at(
    sdk_environment, api_key_provider, workload, tmp_path, monkeypatch
):
    write_local_dev_config(workload, "alice", tmp_path)
    monkeypatch.chdir(tmp_path)

    @requires_api_key(provider_name=api_key_provider[0])
    def call_service(*, api_key: str) -> str:
        return api_key

    assert call_service() == api_key_provider[1]
    assert (
        json.loads((tmp_path / ".agentcore.json").read_text())["workload_identity_name"] == workload
    )
