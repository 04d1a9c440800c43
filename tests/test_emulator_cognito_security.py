"""The hosted UI's OAuth 2.0 server refuses what Cognito refuses, driven over HTTP.

Scopes a refresh cannot widen, userInfo bound to the domain's own pool, PKCE with S256
only, and authorization codes that expire (on an emulator whose clock the test moves).
"""

import re
import uuid
from urllib.parse import parse_qs, urljoin, urlsplit

import jwt
import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session

from tests.support import client, web_client

CALLBACK = "http://127.0.0.1:1/callback"
PASSWORD = "Passw0rd!=*"


def hosted_pool(url: str, username: str = "dana", email: str = "dana@example.com") -> dict:
    """A pool with a domain, a confidential web client for the code flow, and one user."""
    cognito = client(url, "cognito-idp")
    pool_id = cognito.create_user_pool(PoolName=f"sec-{uuid.uuid4().hex[:8]}")["UserPool"]["Id"]
    domain = f"sec-{uuid.uuid4().hex[:8]}"
    cognito.create_user_pool_domain(Domain=domain, UserPoolId=pool_id)
    app_client = web_client(cognito, pool_id, CALLBACK)
    cognito.admin_create_user(
        UserPoolId=pool_id,
        Username=username,
        UserAttributes=[{"Name": "email", "Value": email}],
    )
    cognito.admin_set_user_password(
        UserPoolId=pool_id, Username=username, Password=PASSWORD, Permanent=True
    )
    discovery = requests.get(f"{url}/{pool_id}/.well-known/openid-configuration", timeout=5)
    return {
        "id": pool_id,
        "cognito": cognito,
        "client": app_client,
        "username": username,
        **discovery.json(),
    }


@pytest.fixture(scope="module")
def pool(emulator_url):
    return hosted_pool(emulator_url)


def _session(pool: dict, scope: str, **options) -> OAuth2Session:
    app_client = pool["client"]
    return OAuth2Session(
        app_client["ClientId"],
        app_client["ClientSecret"],
        scope=scope,
        redirect_uri=CALLBACK,
        **options,
    )


def _sign_in(pool: dict, scope: str = "openid profile") -> tuple[OAuth2Session, str, str]:
    """The user signs in on the hosted UI (PKCE S256): the client, verifier, callback URL."""
    oauth = _session(pool, scope, code_challenge_method="S256")
    verifier = generate_token(48)
    url, _ = oauth.create_authorization_url(pool["authorization_endpoint"], code_verifier=verifier)
    browser = requests.Session()
    page = browser.get(url, timeout=5)
    assert page.status_code == 200, page.text
    action = re.search(r'action="([^"]+)"', page.text)[1].replace("&amp;", "&")
    form = {
        "_csrf": re.search(r'name="_csrf" value="([^"]+)"', page.text)[1],
        "username": pool["username"],
        "password": PASSWORD,
        "cognitoAsfData": "",
    }
    answer = browser.post(urljoin(page.url, action), data=form, allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    return oauth, verifier, answer.headers["Location"]


def _tokens(pool: dict, scope: str = "openid profile") -> dict:
    oauth, verifier, location = _sign_in(pool, scope)
    return oauth.fetch_token(
        pool["token_endpoint"], authorization_response=location, code_verifier=verifier
    )


def _refresh(pool: dict, refresh_token: str, **form) -> requests.Response:
    app_client = pool["client"]
    return requests.post(
        pool["token_endpoint"],
        data={"grant_type": "refresh_token", "refresh_token": refresh_token, **form},
        auth=(app_client["ClientId"], app_client["ClientSecret"]),
        timeout=5,
    )


def _redeem(pool: dict, location: str, verifier: str) -> requests.Response:
    """POST the code the callback ``location`` carries to the token endpoint."""
    app_client = pool["client"]
    return requests.post(
        pool["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": parse_qs(urlsplit(location).query)["code"][0],
            "redirect_uri": CALLBACK,
            "code_verifier": verifier,
        },
        auth=(app_client["ClientId"], app_client["ClientSecret"]),
        timeout=5,
    )


def _scope_of(access_token: str) -> set[str]:
    return set(jwt.decode(access_token, options={"verify_signature": False})["scope"].split())


def _user_info(pool: dict, access_token: str) -> requests.Response:
    headers = {"Authorization": f"Bearer {access_token}"}
    return requests.get(pool["userinfo_endpoint"], headers=headers, timeout=5)


def _redirected_error(pool: dict, **pkce) -> dict[str, list[str]]:
    """The query the authorize endpoint sends the browser back to the client with."""
    oauth = _session(pool, "openid")
    url, state = oauth.create_authorization_url(pool["authorization_endpoint"], **pkce)
    answer = requests.get(url, allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    location = answer.headers["Location"]
    assert location.startswith(CALLBACK + "?")
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == [state]
    assert "code" not in query
    return query


# Refresh tokens: RFC 6749 section 6


def test_a_refresh_cannot_widen_the_granted_scope(pool):
    refresh_token = _tokens(pool, scope="openid")["refresh_token"]
    for wider in ("openid profile", "email", "openid aws.cognito.signin.user.admin"):
        answer = _refresh(pool, refresh_token, scope=wider)
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"] == "invalid_scope"


def test_a_refresh_without_a_scope_keeps_the_granted_scope(pool):
    refresh_token = _tokens(pool, scope="openid profile")["refresh_token"]
    answer = _refresh(pool, refresh_token)
    assert answer.status_code == 200, answer.text
    assert _scope_of(answer.json()["access_token"]) == {"openid", "profile"}


def test_a_refresh_may_narrow_the_granted_scope(pool):
    refresh_token = _tokens(pool, scope="openid profile")["refresh_token"]
    answer = _refresh(pool, refresh_token, scope="profile")
    assert answer.status_code == 200, answer.text
    assert _scope_of(answer.json()["access_token"]) == {"profile"}


def test_a_refresh_token_of_a_deleted_user_is_an_invalid_grant(emulator_url):
    own = hosted_pool(emulator_url, username="erin")
    refresh_token = _tokens(own)["refresh_token"]
    own["cognito"].admin_delete_user(UserPoolId=own["id"], Username="erin")
    answer = _refresh(own, refresh_token)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == "invalid_grant"


def test_a_code_of_a_user_deleted_since_signing_in_is_an_invalid_grant(emulator_url):
    own = hosted_pool(emulator_url, username="gail")
    _, verifier, location = _sign_in(own)
    own["cognito"].admin_delete_user(UserPoolId=own["id"], Username="gail")
    answer = _redeem(own, location, verifier)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == "invalid_grant"


# userInfo: the domain's own pool, never a namesake in another


def test_user_info_answers_with_the_user_of_the_tokens_own_pool(emulator_url):
    first = hosted_pool(emulator_url, username="sam", email="sam@first.example")
    second = hosted_pool(emulator_url, username="sam", email="sam@second.example")
    first_token = _tokens(first)["access_token"]
    second_token = _tokens(second)["access_token"]
    assert _user_info(first, first_token).json()["email"] == "sam@first.example"
    assert _user_info(second, second_token).json()["email"] == "sam@second.example"
    for pool_, foreign_token in ((second, first_token), (first, second_token)):
        refused = _user_info(pool_, foreign_token)
        assert refused.status_code == 401, refused.text
        assert refused.json()["error"] == "invalid_token"


def test_user_info_refuses_a_token_whose_user_was_deleted(emulator_url):
    own = hosted_pool(emulator_url, username="finn")
    access_token = _tokens(own)["access_token"]
    own["cognito"].admin_delete_user(UserPoolId=own["id"], Username="finn")
    own["cognito"].admin_create_user(UserPoolId=own["id"], Username="finn")
    refused = _user_info(own, access_token)
    assert refused.status_code == 401, refused.text


# PKCE: Cognito supports S256 only


@pytest.mark.parametrize("method", ["plain", "S512", "s256"])
def test_a_code_challenge_method_other_than_s256_is_refused(pool, method):
    verifier = generate_token(48)
    query = _redirected_error(pool, code_challenge=verifier, code_challenge_method=method)
    assert query["error"] == ["invalid_request"]
    assert "S256" in query["error_description"][0]


def test_a_code_challenge_without_a_method_is_refused(pool):
    query = _redirected_error(pool, code_challenge=generate_token(48))
    assert query["error"] == ["invalid_request"]
    assert "S256" in query["error_description"][0]


def test_s256_still_works_end_to_end(pool):
    tokens = _tokens(pool)
    assert _user_info(pool, tokens["access_token"]).json()["username"] == pool["username"]


# Authorization codes expire after five minutes, on an emulator whose clock moves


def test_an_expired_authorization_code_is_an_invalid_grant(clocked_emulator):
    url, move_clock = clocked_emulator
    own = hosted_pool(url)
    _, verifier, location = _sign_in(own)
    move_clock(301)
    _, fresh_verifier, fresh_location = _sign_in(own)  # saving this code drops the expired one
    expired = _redeem(own, location, verifier)
    assert expired.status_code == 400, expired.text
    assert expired.json()["error"] == "invalid_grant"
    assert _redeem(own, fresh_location, fresh_verifier).status_code == 200
