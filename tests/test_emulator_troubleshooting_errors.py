"""The local backend's words for two quickstart failures, as AWS words them (notebook 12)."""

import uuid

import pytest
from botocore.exceptions import ClientError

from tests.support import client, error_of

RETURN_URL = "http://127.0.0.1:8765/oauth2/callback"


@pytest.fixture
def workload_without_return_urls(emulator_url) -> tuple[str, str]:
    """A workload identity with no return URLs, a provider, and a WAT for one user."""
    control = client(emulator_url, "bedrock-agentcore-control")
    name = f"wl-{uuid.uuid4().hex[:8]}"
    control.create_workload_identity(name=name)
    provider = f"provider-{uuid.uuid4().hex[:8]}"
    control.create_oauth2_credential_provider(
        name=provider,
        credentialProviderVendor="CustomOauth2",
        oauth2ProviderConfigInput={
            "customOauth2ProviderConfig": {
                "oauthDiscovery": {
                    "authorizationServerMetadata": {
                        "issuer": "http://127.0.0.1:9/issuer",
                        "authorizationEndpoint": "http://127.0.0.1:9/authorize",
                        "tokenEndpoint": "http://127.0.0.1:9/token",
                    }
                },
                "clientId": "client",
                "clientSecret": "secret",
            }
        },
    )
    wat = client(emulator_url, "bedrock-agentcore").get_workload_access_token_for_user_id(
        workloadName=name, userId="alice"
    )["workloadAccessToken"]
    return wat, provider


@pytest.mark.parametrize(
    "given", [{"resourceOauth2ReturnUrl": RETURN_URL}, {}], ids=["url-given", "none-given"]
)
def test_user_federation_needs_a_return_url_registered_on_the_workload_identity(
    emulator_url, workload_without_return_urls, given
):
    wat, provider = workload_without_return_urls
    with pytest.raises(ClientError) as error:
        client(emulator_url, "bedrock-agentcore").get_resource_oauth2_token(
            workloadIdentityToken=wat,
            resourceCredentialProviderName=provider,
            scopes=["openid"],
            oauth2Flow="USER_FEDERATION",
            **given,
        )
    assert error_of(error) == ("ValidationException", 400)
    assert error.value.response["Error"]["Message"] == (
        "You must register and use at least one ResourceOauth2ReturnUrl on your workload "
        "identity to use this flow"
    )


def test_sign_in_without_secret_hash_says_it_was_not_received(emulator_url):
    idp = client(emulator_url, "cognito-idp")
    pool = idp.create_user_pool(PoolName=f"pool-{uuid.uuid4().hex[:8]}")["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(
        UserPoolId=pool,
        ClientName="web",
        GenerateSecret=True,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"],
    )["UserPoolClient"]["ClientId"]
    idp.admin_create_user(UserPoolId=pool, Username="alice")
    idp.admin_set_user_password(
        UserPoolId=pool, Username="alice", Password="Passw0rd!=*", Permanent=True
    )
    with pytest.raises(ClientError) as error:
        idp.initiate_auth(
            ClientId=client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "alice", "PASSWORD": "Passw0rd!=*"},
        )
    assert error_of(error) == ("NotAuthorizedException", 400)
    assert error.value.response["Error"]["Message"] == (
        f"Client {client_id} is configured with secret but SECRET_HASH was not received"
    )
