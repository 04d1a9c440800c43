"""Quickstart steps 5 and 6 through the helpers, against the local backend."""

import json

import pytest

from helpers import backend, cognito, identity, state
from helpers.errors import WorkshopError


@pytest.fixture
def connected(workshop):
    be = backend.connect("local", "us-east-1")
    ws = state.load(be)
    return be, ws, cognito.setup(be, ws)


def _client(be, pool) -> dict:
    return be.client("cognito-idp").describe_user_pool_client(
        UserPoolId=pool.pool_id, ClientId=pool.client_id
    )["UserPoolClient"]


def test_recorded_pools_need_01_first(workshop):
    be = backend.connect("local", "us-east-1")
    with pytest.raises(WorkshopError, match="run 01_setup_cognito first"):
        cognito.recorded(be, state.load(be))


def test_recorded_pools_are_the_ones_setup_made(connected):
    be, ws, pools = connected
    assert cognito.recorded(be, ws) == pools


def test_credential_provider_is_the_quickstarts_custom_provider(connected):
    be, ws, pools = connected
    provider = identity.create_credential_provider(be, ws, pools)
    described = be.client("bedrock-agentcore-control").get_oauth2_credential_provider(
        name=provider.name
    )
    assert provider.name == f"ExternalServiceProvider-{ws.suffix}"
    assert described["credentialProviderVendor"] == "CustomOauth2"
    config = described["oauth2ProviderConfigOutput"]["customOauth2ProviderConfig"]
    assert config["clientId"] == pools.identity.client_id
    assert config["oauthDiscovery"]["discoveryUrl"] == pools.identity.discovery_url
    assert ws.get("credential_provider")["name"] == provider.name


def test_callback_registration_keeps_every_other_client_setting(connected):
    be, ws, pools = connected
    before = _client(be, pools.identity)
    provider = identity.create_credential_provider(be, ws, pools)
    after = _client(be, pools.identity)
    assert after["CallbackURLs"] == [*before["CallbackURLs"], provider.callback_url]
    unchanged = {"CallbackURLs", "LastModifiedDate"}
    assert {k: v for k, v in after.items() if k not in unchanged} == {
        k: v for k, v in before.items() if k not in unchanged
    }


def test_credential_provider_again_changes_nothing(connected):
    be, ws, pools = connected
    first = identity.create_credential_provider(be, ws, pools)
    assert identity.create_credential_provider(be, state.load(be), pools) == first
    control = be.client("bedrock-agentcore-control")
    pages = control.get_paginator("list_oauth2_credential_providers").paginate()
    names = [p["name"] for page in pages for p in page["credentialProviders"]]
    assert names.count(first.name) == 1
    assert identity.callback_urls(be, pools.identity).count(first.callback_url) == 1


def test_workload_identity_is_created_once(connected):
    be, ws, _ = connected
    workload = identity.create_workload_identity(be, ws)
    assert workload.name == f"identity-demo-workload-{ws.suffix}"
    assert identity.create_workload_identity(be, state.load(be)) == workload
    assert ws.get("workload_identity")["name"] == workload.name


def test_return_urls_are_merged_not_replaced(connected):
    be, ws, _ = connected
    name = identity.create_workload_identity(be, ws).name
    identity.set_return_urls(be, name, add=("http://127.0.0.1:1/a", "http://127.0.0.1:1/b"))
    identity.set_return_urls(be, name, add=("http://127.0.0.1:1/b", "http://127.0.0.1:1/c"))
    after = identity.set_return_urls(be, name, remove=("http://127.0.0.1:1/a",))
    assert after.return_urls == ("http://127.0.0.1:1/b", "http://127.0.0.1:1/c")
    assert identity.get_workload_identity(be, name) == after


def test_workload_access_token_for_the_learners_bearer_token(connected):
    be, ws, pools = connected
    workload = identity.create_workload_identity(be, ws)
    token = identity.workload_access_token(
        be, workload.name, cognito.bearer_token(be, pools.runtime)
    )
    assert token and pools.runtime.username not in token


def test_a_bad_bearer_token_is_explained(connected):
    be, ws, _ = connected
    workload = identity.create_workload_identity(be, ws)
    with pytest.raises(WorkshopError, match="UnauthorizedException"):
        identity.workload_access_token(be, workload.name, "a.b.c")


def test_local_dev_config_names_the_workload_and_user(tmp_path):
    path = identity.write_local_dev_config("identity-demo-workload-x", "alice", tmp_path)
    assert json.loads(path.read_text()) == {
        "workload_identity_name": "identity-demo-workload-x",
        "user_id": "alice",
    }
