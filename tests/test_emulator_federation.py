"""USER_FEDERATION end to end on the local backend: the real SDK's decorator and poller,
boto3 on the data plane, a scripted browser on the hosted UI, and what must be refused."""

import asyncio
import re
import threading
import time
from urllib.parse import parse_qs, urljoin, urlsplit

import jwt
import pytest
import requests
from bedrock_agentcore.identity.auth import requires_access_token
from bedrock_agentcore.runtime import BedrockAgentCoreContext
from bedrock_agentcore.services import identity as sdk_identity
from botocore.exceptions import ClientError

from helpers.backend import Backend, free_port
from helpers.cognito import Pool
from helpers.consent import SessionBinding, sign_in_headlessly
from tests.support import (
    client,
    custom_provider,
    hosted_ui_provider,
    machine_client,
    pool_with_user,
    workload_returning_to,
)

RETURN_URL = "http://127.0.0.1:9/return"  # nobody serves it: tests bind sessions themselves
PASSWORD = "Ext3rnal-passw0rd!"


@pytest.fixture(scope="module")
def outbound(emulator_url):
    """The quickstart's outbound side: identity pool, its client, a provider, a workload."""
    pool_id, app_client, provider = hosted_ui_provider(
        emulator_url, "provider", ["openid", "profile"]
    )
    cognito = client(emulator_url, "cognito-idp")
    cognito.admin_create_user(UserPoolId=pool_id, Username="dave")
    cognito.admin_set_user_password(
        UserPoolId=pool_id, Username="dave", Password=PASSWORD, Permanent=True
    )
    workload = workload_returning_to(emulator_url, RETURN_URL)
    users = pool_with_user(emulator_url)
    dave = Pool(
        pool_id=pool_id,
        client_id=app_client["ClientId"],
        client_secret=None,
        domain=None,
        username="dave",
        password=PASSWORD,
        discovery_url=f"{emulator_url}/{pool_id}/.well-known/openid-configuration",
    )
    return {
        "provider": provider["name"],
        "workload": workload,
        "users": users,
        "dave": dave,
        "url": emulator_url,
    }


def _wat(outbound, user_token: str) -> str:
    data = client(outbound["url"], "bedrock-agentcore")
    return data.get_workload_access_token_for_jwt(
        workloadName=outbound["workload"], userToken=user_token
    )["workloadAccessToken"]


def _ask(outbound, wat: str, **extra) -> dict:
    answer = client(outbound["url"], "bedrock-agentcore").get_resource_oauth2_token(
        workloadIdentityToken=wat,
        resourceCredentialProviderName=outbound["provider"],
        scopes=["openid"],
        oauth2Flow="USER_FEDERATION",
        **extra,
    )
    answer.pop("ResponseMetadata")
    return answer


def _complete(outbound, session_uri: str, **identifier) -> None:
    client(outbound["url"], "bedrock-agentcore").complete_resource_token_auth(
        sessionUri=session_uri, userIdentifier=identifier
    )


def _consent_until_return(outbound, authorization_url: str) -> tuple[str, str]:
    """Dave signs in; stop at the return URL. Returns it and the provider callback URL."""
    browser = requests.Session()
    page = browser.get(authorization_url)
    action = re.search(r'action="([^"]+)"', page.text)[1].replace("&amp;", "&")
    csrf = re.search(r'name="_csrf" value="([^"]+)"', page.text)[1]
    answer = browser.post(
        urljoin(page.url, action),
        data={"_csrf": csrf, "username": "dave", "password": PASSWORD, "cognitoAsfData": ""},
        allow_redirects=False,
    )
    callback = answer.headers["Location"]
    returned = browser.get(callback, allow_redirects=False).headers["Location"]
    assert returned.startswith(RETURN_URL), returned
    return returned, callback


def _session_of(return_url: str) -> str:
    return parse_qs(urlsplit(return_url).query)["session_id"][0]


def _access_token_of_dave(token: str, outbound) -> dict:
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["username"] == "dave" and claims["client_id"] == outbound["dave"].client_id
    return claims


def test_the_sdk_decorator_gets_the_token_after_consent(outbound, monkeypatch, sdk_environment):
    binding_port = free_port()
    binding_url = f"http://127.0.0.1:{binding_port}/oauth2/callback"
    control = client(outbound["url"], "bedrock-agentcore-control")
    control.update_workload_identity(
        name=outbound["workload"], allowedResourceOauth2ReturnUrls=[RETURN_URL, binding_url]
    )
    monkeypatch.setattr(sdk_identity, "DEFAULT_POLLING_INTERVAL_SECONDS", 0.1)
    user_token = outbound["users"]["access_token"]
    be = Backend("local", "us-east-1", outbound["url"], "test")
    binding = SessionBinding(be, binding_url, user_token).start()
    urls: list[str] = []

    @requires_access_token(
        provider_name=outbound["provider"],
        scopes=["openid"],
        auth_flow="USER_FEDERATION",
        on_auth_url=urls.append,
        callback_url=binding_url,
        force_authentication=True,
    )
    async def get_token(*, access_token: str) -> str:
        return access_token

    results: list[str] = []

    def agent_request() -> None:
        BedrockAgentCoreContext.set_workload_access_token(_wat(outbound, user_token))
        results.append(asyncio.run(get_token()))

    worker = threading.Thread(target=agent_request)
    worker.start()
    try:
        deadline = time.monotonic() + 10
        while not urls and time.monotonic() < deadline:
            time.sleep(0.05)
        assert urls and "/identities/oauth2/authorize?request_uri=" in urls[0]
        trip = sign_in_headlessly(urls[0], outbound["dave"])
        assert trip.final_url.startswith(binding_url)
        worker.join(timeout=10)
    finally:
        binding.stop()
    assert results, "the decorated function never returned"
    _access_token_of_dave(results[0], outbound)


def test_a_second_user_can_neither_bind_nor_see_the_first_users_session(outbound, emulator_url):
    alice = pool_with_user(emulator_url)["access_token"]
    started = _ask(outbound, _wat(outbound, alice), resourceOauth2ReturnUrl=RETURN_URL)
    returned, _ = _consent_until_return(outbound, started["authorizationUrl"])
    mallory = pool_with_user(emulator_url)["access_token"]
    with pytest.raises(ClientError) as error:
        _complete(outbound, _session_of(returned), userToken=mallory)
    assert error.value.response["Error"]["Code"] == "AccessDeniedException"
    assert error.value.response["Error"]["Message"] == "Invalid or expired session"
    mallory_wat = _wat(outbound, mallory)
    with pytest.raises(ClientError) as error:
        _ask(outbound, mallory_wat, sessionUri=started["sessionUri"])
    assert error.value.response["Error"]["Code"] == "ValidationException"
    _complete(outbound, _session_of(returned), userToken=alice)
    assert "accessToken" not in _ask(outbound, mallory_wat, resourceOauth2ReturnUrl=RETURN_URL)
    _access_token_of_dave(_ask(outbound, _wat(outbound, alice))["accessToken"], outbound)


def test_binding_needs_the_very_token_that_started_the_flow(outbound, emulator_url):
    users = pool_with_user(emulator_url)
    started = _ask(
        outbound, _wat(outbound, users["access_token"]), resourceOauth2ReturnUrl=RETURN_URL
    )
    returned, _ = _consent_until_return(outbound, started["authorizationUrl"])
    reminted = client(emulator_url, "cognito-idp").initiate_auth(
        ClientId=users["client_id"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "alice", "PASSWORD": "Passw0rd!=*"},
    )["AuthenticationResult"]["AccessToken"]
    assert reminted != users["access_token"]
    with pytest.raises(ClientError) as error:
        _complete(outbound, _session_of(returned), userToken=reminted)
    assert error.value.response["Error"]["Code"] == "AccessDeniedException"
    _complete(outbound, _session_of(returned), userToken=users["access_token"])
    with pytest.raises(ClientError) as error:  # a session binds once
        _complete(outbound, _session_of(returned), userToken=users["access_token"])
    assert error.value.response["Error"]["Code"] == "AccessDeniedException"


def test_user_id_sessions_bind_to_that_user_id(outbound):
    data = client(outbound["url"], "bedrock-agentcore")
    wat = data.get_workload_access_token_for_user_id(
        workloadName=outbound["workload"], userId="user-42"
    )["workloadAccessToken"]
    started = _ask(outbound, wat, resourceOauth2ReturnUrl=RETURN_URL)
    returned, _ = _consent_until_return(outbound, started["authorizationUrl"])
    with pytest.raises(ClientError):
        _complete(outbound, _session_of(returned), userId="user-43")
    _complete(outbound, _session_of(returned), userId="user-42")
    assert _ask(outbound, wat, sessionUri=started["sessionUri"])["accessToken"]


def test_the_return_url_must_be_given_and_allowed(outbound):
    wat = _wat(outbound, outbound["users"]["access_token"])
    with pytest.raises(ClientError) as error:
        _ask(outbound, wat, forceAuthentication=True)
    assert error.value.response["Error"]["Message"] == (
        "You must provide a ResourceOauth2ReturnUrl to proceed with this flow"
    )
    with pytest.raises(ClientError) as error:
        _ask(
            outbound, wat, forceAuthentication=True, resourceOauth2ReturnUrl="http://127.0.0.1:9/x"
        )
    assert error.value.response["Error"]["Code"] == "ValidationException"


def test_an_authorization_code_cannot_be_used_twice(outbound, emulator_url):
    wat = _wat(outbound, pool_with_user(emulator_url)["access_token"])
    started = _ask(outbound, wat, resourceOauth2ReturnUrl=RETURN_URL)
    _, callback = _consent_until_return(outbound, started["authorizationUrl"])
    replay = requests.get(callback, allow_redirects=False, timeout=5)
    assert replay.status_code == 400
    assert "Already used" in replay.text


def test_a_tampered_state_is_refused(outbound, emulator_url):
    wat = _wat(outbound, pool_with_user(emulator_url)["access_token"])
    started = _ask(outbound, wat, resourceOauth2ReturnUrl=RETURN_URL)
    sent_on = requests.get(started["authorizationUrl"], allow_redirects=False, timeout=5)
    query = parse_qs(urlsplit(sent_on.headers["Location"]).query)
    callback = query["redirect_uri"][0] + "?code=made-up&state=" + query["state"][0][::-1]
    answer = requests.get(callback, allow_redirects=False, timeout=5)
    assert answer.status_code == 400
    assert "matches no authorization" in answer.text


def test_abandoned_consent_leaves_no_token(outbound, emulator_url):
    user_token = pool_with_user(emulator_url)["access_token"]
    wat = _wat(outbound, user_token)
    started = _ask(outbound, wat, resourceOauth2ReturnUrl=RETURN_URL)
    polled = _ask(outbound, wat, sessionUri=started["sessionUri"])
    assert polled["sessionStatus"] == "IN_PROGRESS" and "accessToken" not in polled
    with pytest.raises(ClientError):
        _complete(outbound, started["sessionUri"], userToken=user_token)
    again = _ask(outbound, wat, resourceOauth2ReturnUrl=RETURN_URL)
    assert "accessToken" not in again and again["sessionUri"] != started["sessionUri"]


def test_custom_state_and_parameters_are_carried_through(outbound, emulator_url):
    user_token = pool_with_user(emulator_url)["access_token"]
    started = _ask(
        outbound,
        _wat(outbound, user_token),
        resourceOauth2ReturnUrl=RETURN_URL,
        customState="my-state-42",
        customParameters={"prompt": "login"},
    )
    sent_on = requests.get(started["authorizationUrl"], allow_redirects=False, timeout=5)
    assert parse_qs(urlsplit(sent_on.headers["Location"]).query)["prompt"] == ["login"]
    returned, _ = _consent_until_return(outbound, started["authorizationUrl"])
    assert parse_qs(urlsplit(returned).query)["state"] == ["my-state-42"]


def test_force_authentication_starts_over_despite_a_vaulted_token(outbound, emulator_url):
    user_token = pool_with_user(emulator_url)["access_token"]
    wat = _wat(outbound, user_token)
    started = _ask(outbound, wat, resourceOauth2ReturnUrl=RETURN_URL)
    returned, _ = _consent_until_return(outbound, started["authorizationUrl"])
    _complete(outbound, _session_of(returned), userToken=user_token)
    assert "accessToken" in _ask(outbound, wat)
    forced = _ask(outbound, wat, resourceOauth2ReturnUrl=RETURN_URL, forceAuthentication=True)
    assert "authorizationUrl" in forced and "accessToken" not in forced


def test_m2m_tokens_come_from_client_credentials_and_are_cached(outbound, emulator_url):
    cognito = client(emulator_url, "cognito-idp")
    machine = machine_client(cognito, outbound["dave"].pool_id, ["api/read"])
    name = custom_provider(emulator_url, outbound["dave"].discovery_url, machine, "m2m")["name"]
    data = client(emulator_url, "bedrock-agentcore")
    wat = data.get_workload_access_token(workloadName=outbound["workload"])["workloadAccessToken"]

    def m2m() -> str:
        return data.get_resource_oauth2_token(
            workloadIdentityToken=wat,
            resourceCredentialProviderName=name,
            scopes=["api/read"],
            oauth2Flow="M2M",
        )["accessToken"]

    first = m2m()
    assert (
        jwt.decode(first, options={"verify_signature": False})["client_id"] == machine["ClientId"]
    )
    assert m2m() == first
