"""A real vendor's provider (notebook 11's last section), against the local backend.

The two services and the forced consent run in test_notebooks (the notebook itself)."""

import pytest

from helpers import second_provider
from helpers.display import Note, Table
from helpers.errors import WorkshopError
from tests.support import client

SECRET = "vendor-client-secret-for-the-test"


def test_a_vendor_gets_its_own_config_key_and_no_discovery_url(backend_and_state):
    request = second_provider.vendor_request(*backend_and_state, "GithubOauth2", "Iv1.x", SECRET)
    assert request["credentialProviderVendor"] == "GithubOauth2"
    assert request["oauth2ProviderConfigInput"] == {
        "githubOauth2ProviderConfig": {"clientId": "Iv1.x", "clientSecret": SECRET}
    }


@pytest.mark.parametrize("vendor", ["CustomOauth2", "OktaOauth2", "Gooogle"])
def test_a_vendor_without_a_config_of_its_own_is_refused_with_the_choices(
    backend_and_state, vendor
):
    with pytest.raises(WorkshopError, match=r"has no config of its own; try one of .*SlackOauth2"):
        second_provider.vendor_request(*backend_and_state, vendor, "id", SECRET)


def test_without_a_client_nothing_is_created(backend_and_state):
    be, ws = backend_and_state
    request = second_provider.vendor_request(be, ws, "GoogleOauth2", "", "")
    assert "<your client secret>" in str(request)
    assert isinstance(second_provider.ensure_vendor_provider(be, ws, request, False), Note)
    assert ws.get(second_provider.VENDOR_KEY) is None


def test_a_vendor_provider_is_created_once_then_updated(backend_and_state, emulator_url):
    be, ws = backend_and_state
    request = second_provider.vendor_request(be, ws, "SlackOauth2", "123.456", SECRET)
    created = second_provider.ensure_vendor_provider(be, ws, request, True)
    assert isinstance(created, Table)
    row = {shown["Name"]: shown["Value"] for shown in created.rows}
    assert "/identities/oauth2/callback/" in row["Redirect URI to register at the vendor"]
    assert SECRET not in str(created.rows)
    rotated = second_provider.vendor_request(be, ws, "SlackOauth2", "123.456", SECRET + "-2")
    second_provider.ensure_vendor_provider(be, ws, rotated, True)
    stored = client(emulator_url, "secretsmanager").get_secret_value(
        SecretId=row["Client secret (stored at)"]
    )
    assert SECRET + "-2" in stored["SecretString"]
    other = second_provider.vendor_request(be, ws, "GoogleOauth2", "g", SECRET)
    with pytest.raises(WorkshopError, match="already has the vendor provider SlackProvider-"):
        second_provider.ensure_vendor_provider(be, ws, other, True)
