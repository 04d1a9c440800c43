"""Quickstart step 5 (and the pools it reads) through the helpers, on the local backend."""

import pytest

from helpers import backend, cognito, credential_provider, state
from helpers.errors import WorkshopError


def _client(be, pool) -> dict:
    return be.client("cognito-idp").describe_user_pool_client(
        UserPoolId=pool.pool_id, ClientId=pool.client_id
    )["UserPoolClient"]


def test_recorded_pools_need_01_first(workshop_dir):
    be = backend.connect("local", "us-east-1")
    with pytest.raises(WorkshopError, match="run 01_setup_cognito first"):
        cognito.recorded_pools(be, state.load(be))


def test_recorded_pools_are_the_ones_setup_made(backend_and_state, pools):
    be, ws = backend_and_state
    assert cognito.recorded_pools(be, ws) == pools


def test_credential_provider_is_the_quickstarts_custom_provider(backend_and_state, pools):
    be, ws = backend_and_state
    provider = credential_provider.ensure_credential_provider(be, ws, pools)
    described = be.client("bedrock-agentcore-control").get_oauth2_credential_provider(
        name=provider.name
    )
    assert provider.name == f"ExternalServiceProvider-{ws.suffix}"
    assert described["credentialProviderVendor"] == "CustomOauth2"
    config = described["oauth2ProviderConfigOutput"]["customOauth2ProviderConfig"]
    assert config["clientId"] == pools.identity.client_id
    assert config["oauthDiscovery"]["discoveryUrl"] == pools.identity.discovery_url
    assert ws.get("credential_provider")["name"] == provider.name


def test_callback_registration_keeps_every_other_client_setting(backend_and_state, pools):
    be, ws = backend_and_state
    before = _client(be, pools.identity)
    provider = credential_provider.ensure_credential_provider(be, ws, pools)
    after = _client(be, pools.identity)
    assert after["CallbackURLs"] == [*before["CallbackURLs"], provider.callback_url]
    unchanged = {"CallbackURLs", "LastModifiedDate"}
    assert {k: v for k, v in after.items() if k not in unchanged} == {
        k: v for k, v in before.items() if k not in unchanged
    }


def test_credential_provider_again_changes_nothing(backend_and_state, pools):
    be, ws = backend_and_state
    first = credential_provider.ensure_credential_provider(be, ws, pools)
    assert credential_provider.ensure_credential_provider(be, state.load(be), pools) == first
    control = be.client("bedrock-agentcore-control")
    pages = control.get_paginator("list_oauth2_credential_providers").paginate()
    names = [p["name"] for page in pages for p in page["credentialProviders"]]
    assert names.count(first.name) == 1
    assert credential_provider.callback_urls(be, pools.identity).count(first.callback_url) == 1
