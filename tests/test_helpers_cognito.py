"""Quickstart step 1 through the helpers, against the local backend."""

from dataclasses import replace

import pytest

from helpers import backend, cognito, state, tokens
from helpers.errors import WorkshopError


@pytest.fixture
def connected(workshop):
    be = backend.connect("local", "us-east-1")
    return be, state.load(be)


@pytest.fixture
def pools(connected):
    return cognito.setup(*connected)


def _pool_count(be) -> int:
    return len(be.client("cognito-idp").list_user_pools(MaxResults=60)["UserPools"])


def test_runtime_pool_has_a_public_password_client(connected, pools):
    be, _ = connected
    client = be.client("cognito-idp").describe_user_pool_client(
        UserPoolId=pools.runtime.pool_id, ClientId=pools.runtime.client_id
    )["UserPoolClient"]
    assert "ClientSecret" not in client
    assert set(client["ExplicitAuthFlows"]) == {
        "ALLOW_USER_PASSWORD_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
    }
    assert pools.runtime.client_secret is None


def test_identity_pool_has_a_hosted_ui_and_a_confidential_code_client(connected, pools):
    be, _ = connected
    idp = be.client("cognito-idp")
    client = idp.describe_user_pool_client(
        UserPoolId=pools.identity.pool_id, ClientId=pools.identity.client_id
    )["UserPoolClient"]
    assert client["ClientSecret"] == pools.identity.client_secret
    assert client["AllowedOAuthFlows"] == ["code"]
    assert set(client["AllowedOAuthScopes"]) == {"openid", "profile", "email"}
    assert client["CallbackURLs"] == [f"{be.endpoint_url}/identities/oauth2/callback"]
    domain = idp.describe_user_pool_domain(Domain=pools.identity.domain)["DomainDescription"]
    assert domain["UserPoolId"] == pools.identity.pool_id
    assert "authorization_endpoint" in tokens.discover(pools.identity.discovery_url)


def test_users_have_permanent_strong_passwords(connected, pools):
    be, _ = connected
    for pool in (pools.runtime, pools.identity):
        user = be.client("cognito-idp").admin_get_user(
            UserPoolId=pool.pool_id, Username=pool.username
        )
        assert user["UserStatus"] == "CONFIRMED"
        assert len(pool.password) == 16
        assert any(c in cognito.PASSWORD_SYMBOLS for c in pool.password)


def test_discovery_urls_follow_the_endpoint_in_use(connected, pools):
    be, _ = connected
    assert pools.runtime.discovery_url == (
        f"{be.endpoint_url}/{pools.runtime.pool_id}/.well-known/openid-configuration"
    )
    assert tokens.discover(pools.runtime.discovery_url)["issuer"] == (
        f"{be.endpoint_url}/{pools.runtime.pool_id}"
    )


def test_setup_again_reuses_everything(connected, pools):
    be, ws = connected
    before = (_pool_count(be), dict(ws.ledger))
    assert cognito.setup(be, state.load(be)) == pools
    assert (_pool_count(be), dict(state.load(be).ledger)) == before


def test_setup_finishes_a_user_whose_password_was_never_set(connected, pools):
    be, ws = connected
    ws.get("runtime_user")["password"] = None  # as if setting it had failed
    ws.save()
    again = cognito.setup(be, state.load(be))
    assert again.runtime.password not in (None, pools.runtime.password)
    assert cognito.bearer_token(be, again.runtime)


def test_ledger_lists_every_resource_in_creation_order(connected, pools):
    _, ws = connected
    assert [entry["kind"] for entry in ws.ledger.values()] == [
        "cognito-user-pool",
        "cognito-user-pool-client",
        "cognito-user",
        "cognito-user-pool",
        "cognito-user-pool-domain",
        "cognito-user-pool-client",
        "cognito-user",
    ]


def test_bearer_token_is_the_runtime_users_access_token(connected, pools):
    be, _ = connected
    claims = tokens.verify(cognito.bearer_token(be, pools.runtime), pools.runtime.discovery_url)
    assert claims["client_id"] == pools.runtime.client_id
    assert claims["username"] == pools.runtime.username
    assert claims["token_use"] == "access"


def test_bearer_token_sends_secret_hash_for_a_client_with_secret(connected, pools):
    be, _ = connected
    idp = be.client("cognito-idp")
    client = idp.create_user_pool_client(
        UserPoolId=pools.runtime.pool_id,
        ClientName="with-secret",
        GenerateSecret=True,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"],
    )["UserPoolClient"]
    confidential = replace(
        pools.runtime, client_id=client["ClientId"], client_secret=client["ClientSecret"]
    )
    claims = tokens.verify(cognito.bearer_token(be, confidential), confidential.discovery_url)
    assert claims["client_id"] == client["ClientId"]


def test_wrong_password_is_explained(connected, pools):
    be, _ = connected
    wrong = replace(pools.runtime, password="Wrong-password-1")
    with pytest.raises(WorkshopError, match=r"Signing in .* NotAuthorizedException"):
        cognito.bearer_token(be, wrong)


def test_env_values_are_the_quickstarts_eleven(pools):
    assert set(pools.env_values()) == set(state.ENV_VARIABLES)
