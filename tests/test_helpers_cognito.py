"""Quickstart step 1 through the helpers, against the local backend."""

from dataclasses import replace

import pytest

from helpers import authorizer, cognito, state
from helpers.errors import WorkshopError


def _pool_count(be) -> int:
    return len(be.client("cognito-idp").list_user_pools(MaxResults=60)["UserPools"])


def test_runtime_pool_has_a_public_password_client(backend_and_state, pools):
    be, _ = backend_and_state
    client = be.client("cognito-idp").describe_user_pool_client(
        UserPoolId=pools.runtime.pool_id, ClientId=pools.runtime.client_id
    )["UserPoolClient"]
    assert "ClientSecret" not in client
    assert set(client["ExplicitAuthFlows"]) == {
        "ALLOW_USER_PASSWORD_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
    }
    assert pools.runtime.client_secret is None


def test_identity_pool_has_a_hosted_ui_and_a_confidential_code_client(backend_and_state, pools):
    be, _ = backend_and_state
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
    assert "authorization_endpoint" in authorizer.discover(be, pools.identity.discovery_url)


def test_users_have_permanent_strong_passwords(backend_and_state, pools):
    be, _ = backend_and_state
    for pool in (pools.runtime, pools.identity):
        user = be.client("cognito-idp").admin_get_user(
            UserPoolId=pool.pool_id, Username=pool.username
        )
        assert user["UserStatus"] == "CONFIRMED"
        assert len(pool.password) == 16
        assert any(c in cognito.PASSWORD_SYMBOLS for c in pool.password)


def test_discovery_urls_follow_the_endpoint_in_use(backend_and_state, pools):
    be, _ = backend_and_state
    assert pools.runtime.discovery_url == (
        f"{be.endpoint_url}/{pools.runtime.pool_id}/.well-known/openid-configuration"
    )
    assert authorizer.discover(be, pools.runtime.discovery_url)["issuer"] == (
        f"{be.endpoint_url}/{pools.runtime.pool_id}"
    )


def test_setup_again_reuses_everything(backend_and_state, pools):
    be, ws = backend_and_state
    before = (_pool_count(be), dict(ws.ledger))
    assert cognito.ensure_pools(be, state.load(be)) == pools
    assert (_pool_count(be), dict(state.load(be).ledger)) == before


def test_setup_finishes_a_user_whose_password_was_never_set(backend_and_state, pools):
    be, ws = backend_and_state
    ws.get("runtime_user")["password"] = None  # as if setting it had failed
    ws.save()
    again = cognito.ensure_pools(be, state.load(be))
    assert again.runtime.password not in (None, pools.runtime.password)
    assert cognito.bearer_token(be, again.runtime)


def test_ledger_lists_every_resource_in_creation_order(backend_and_state, pools):
    _, ws = backend_and_state
    assert [entry["kind"] for entry in ws.ledger.values()] == [
        "cognito-user-pool",
        "cognito-user-pool-client",
        "cognito-user",
        "cognito-user-pool",
        "cognito-user-pool-domain",
        "cognito-user-pool-client",
        "cognito-user",
    ]


def test_bearer_token_is_the_runtime_users_access_token(backend_and_state, pools):
    be, _ = backend_and_state
    claims = authorizer.verify(
        be, cognito.bearer_token(be, pools.runtime), pools.runtime.discovery_url
    )
    assert claims["client_id"] == pools.runtime.client_id
    assert claims["username"] == pools.runtime.username
    assert claims["token_use"] == "access"


def test_bearer_token_sends_secret_hash_for_a_client_with_secret(backend_and_state, pools):
    be, _ = backend_and_state
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
    claims = authorizer.verify(
        be, cognito.bearer_token(be, confidential), confidential.discovery_url
    )
    assert claims["client_id"] == client["ClientId"]


def test_wrong_password_is_explained(backend_and_state, pools):
    be, _ = backend_and_state
    wrong = replace(pools.runtime, password="Wrong-password-1")
    with pytest.raises(WorkshopError, match=r"Signing in .* NotAuthorizedException"):
        cognito.bearer_token(be, wrong)


def test_env_values_are_the_quickstarts_eleven(pools):
    assert set(pools.env_values()) == set(state.ENV_VARIABLES)


def test_pools_display_themselves_with_secrets_masked(pools):
    shown = repr(pools) + pools._repr_html_() + repr(pools.identity) + pools.identity._repr_html_()
    assert pools.runtime.pool_id in shown and pools.identity.client_id in shown
    for secret in (pools.runtime.password, pools.identity.password, pools.identity.client_secret):
        assert secret not in shown
