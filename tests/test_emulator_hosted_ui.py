"""The Cognito hosted UI / OAuth 2.0 server of the local backend, driven by authlib's client."""

import re
import uuid
from urllib.parse import parse_qs, urljoin, urlsplit

import jwt
import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session

from tests.support import client, machine_client, web_client

CALLBACK = "http://127.0.0.1:1/callback"
PASSWORD = "Passw0rd!=*"


@pytest.fixture(scope="module")
def pool(emulator_url):
    cognito = client(emulator_url, "cognito-idp")
    pool_id = cognito.create_user_pool(PoolName="hosted")["UserPool"]["Id"]
    domain = f"hosted-{uuid.uuid4().hex[:8]}"
    cognito.create_user_pool_domain(Domain=domain, UserPoolId=pool_id)
    app_client = web_client(cognito, pool_id, CALLBACK)
    machine = machine_client(cognito, pool_id, ["api/read"])
    cognito.admin_create_user(UserPoolId=pool_id, Username="carol")
    cognito.admin_set_user_password(
        UserPoolId=pool_id, Username="carol", Password=PASSWORD, Permanent=True
    )
    discovery = f"{emulator_url}/{pool_id}/.well-known/openid-configuration"
    return {
        "id": pool_id,
        "domain": domain,
        "client": app_client,
        "machine": machine,
        "discovery": requests.get(discovery, timeout=5).json(),
        "discovery_url": discovery,
    }


def _oauth(pool, **options) -> OAuth2Session:
    app_client = pool["client"]
    return OAuth2Session(
        app_client["ClientId"],
        app_client["ClientSecret"],
        scope="openid profile",
        redirect_uri=CALLBACK,
        **options,
    )


def _login_page(browser: requests.Session, authorization_url: str) -> requests.Response:
    page = browser.get(authorization_url)
    assert page.status_code == 200, page.text
    return page


def _submit(browser, page, username="carol", password=PASSWORD, csrf=None) -> requests.Response:
    action = re.search(r'action="([^"]+)"', page.text).group(1).replace("&amp;", "&")
    token = csrf if csrf is not None else re.search(r'name="_csrf" value="([^"]+)"', page.text)[1]
    form = {"_csrf": token, "username": username, "password": password, "cognitoAsfData": ""}
    return browser.post(urljoin(page.url, action), data=form, allow_redirects=False)


def _authorize(pool, **options) -> tuple[OAuth2Session, str, str]:
    """Sign carol in; return the client, its PKCE verifier and where she was redirected."""
    oauth = _oauth(pool, code_challenge_method="S256")
    verifier = generate_token(48)
    url, _ = oauth.create_authorization_url(
        pool["discovery"]["authorization_endpoint"], code_verifier=verifier, **options
    )
    browser = requests.Session()
    answer = _submit(browser, _login_page(browser, url))
    assert answer.status_code == 302, answer.text
    return oauth, verifier, answer.headers["Location"]


def _redeem(pool, location: str, verifier: str, secret: str | None = None) -> requests.Response:
    """POST the code from ``location`` to the token endpoint by hand (client_secret_basic)."""
    app_client = pool["client"]
    return requests.post(
        pool["discovery"]["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": parse_qs(urlsplit(location).query)["code"][0],
            "redirect_uri": CALLBACK,
            "code_verifier": verifier,
        },
        auth=(app_client["ClientId"], secret or app_client["ClientSecret"]),
        timeout=5,
    )


def _verify(token: str, pool, **options) -> dict:
    key = jwt.PyJWKClient(pool["discovery"]["jwks_uri"]).get_signing_key_from_jwt(token)
    issuer = pool["discovery_url"].removesuffix("/.well-known/openid-configuration")
    return jwt.decode(token, key.key, algorithms=["RS256"], issuer=issuer, **options)


def test_authorization_code_with_pkce_gives_cognito_shaped_tokens(pool):
    oauth, verifier, location = _authorize(pool)
    assert location.startswith(CALLBACK + "?code=")
    tokens = oauth.fetch_token(
        pool["discovery"]["token_endpoint"], authorization_response=location, code_verifier=verifier
    )
    access = _verify(tokens["access_token"], pool)
    assert access["token_use"] == "access"
    assert access["client_id"] == pool["client"]["ClientId"]
    assert access["scope"] == "openid profile"
    assert access["username"] == "carol"
    assert access["version"] == 2
    assert "aud" not in access
    identity = _verify(tokens["id_token"], pool, audience=pool["client"]["ClientId"])
    assert identity["cognito:username"] == "carol"
    assert tokens["refresh_token"]


def test_client_secret_post_is_accepted(pool):
    _, verifier, location = _authorize(pool)
    post = _oauth(pool, token_endpoint_auth_method="client_secret_post")
    tokens = post.fetch_token(
        pool["discovery"]["token_endpoint"], authorization_response=location, code_verifier=verifier
    )
    assert _verify(tokens["access_token"], pool)["username"] == "carol"


def test_a_code_is_single_use(pool):
    oauth, verifier, location = _authorize(pool)
    endpoint = pool["discovery"]["token_endpoint"]
    oauth.fetch_token(endpoint, authorization_response=location, code_verifier=verifier)
    again = _redeem(pool, location, verifier)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_a_wrong_code_verifier_is_refused(pool):
    _, _, location = _authorize(pool)
    answer = _redeem(pool, location, generate_token(48))
    assert answer.json()["error"] == "invalid_grant"


def test_a_wrong_client_secret_is_refused(pool):
    _, verifier, location = _authorize(pool)
    answer = _redeem(pool, location, verifier, secret="not-the-secret")
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"


def test_a_wrong_password_shows_the_form_again_with_an_error(pool):
    oauth = _oauth(pool)
    url, _ = oauth.create_authorization_url(pool["discovery"]["authorization_endpoint"])
    browser = requests.Session()
    answer = _submit(browser, _login_page(browser, url), password="wrong-password")
    assert answer.status_code == 200
    assert "Incorrect username or password." in answer.text
    assert "Location" not in answer.headers


def test_a_sign_in_without_the_csrf_token_is_refused(pool):
    oauth = _oauth(pool)
    url, _ = oauth.create_authorization_url(pool["discovery"]["authorization_endpoint"])
    browser = requests.Session()
    answer = _submit(browser, _login_page(browser, url), csrf="forged")
    assert answer.status_code == 403


def test_an_unregistered_redirect_uri_is_never_redirected_to(pool):
    oauth = OAuth2Session(pool["client"]["ClientId"], redirect_uri="http://127.0.0.1:2/evil")
    url, _ = oauth.create_authorization_url(pool["discovery"]["authorization_endpoint"])
    answer = requests.get(url, allow_redirects=False, timeout=5)
    assert answer.status_code == 400
    assert "evil" not in answer.headers.get("Location", "")


def test_a_scope_the_client_may_not_use_is_an_oauth_error(pool):
    oauth = _oauth(pool)
    url, state = oauth.create_authorization_url(
        pool["discovery"]["authorization_endpoint"], scope="openid aws.cognito.signin.user.admin"
    )
    answer = requests.get(url, allow_redirects=False, timeout=5)
    redirected = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert redirected["error"] == ["invalid_scope"]
    assert redirected["state"] == [state]


def test_refresh_token_gives_a_new_access_token(pool):
    oauth, verifier, location = _authorize(pool)
    endpoint = pool["discovery"]["token_endpoint"]
    first = oauth.fetch_token(endpoint, authorization_response=location, code_verifier=verifier)
    refreshed = oauth.refresh_token(endpoint, refresh_token=first["refresh_token"])
    assert refreshed["access_token"] != first["access_token"]
    assert _verify(refreshed["access_token"], pool)["username"] == "carol"


def test_client_credentials_for_a_machine_client(pool):
    machine = pool["machine"]
    oauth = OAuth2Session(machine["ClientId"], machine["ClientSecret"], scope="api/read")
    token = oauth.fetch_token(pool["discovery"]["token_endpoint"], grant_type="client_credentials")
    claims = _verify(token["access_token"], pool)
    assert claims["sub"] == claims["client_id"] == machine["ClientId"]
    assert claims["scope"] == "api/read"
    assert "id_token" not in token


def test_user_info_answers_for_an_access_token(pool):
    oauth, verifier, location = _authorize(pool)
    tokens = oauth.fetch_token(
        pool["discovery"]["token_endpoint"], authorization_response=location, code_verifier=verifier
    )
    info = oauth.get(pool["discovery"]["userinfo_endpoint"]).json()
    assert info["username"] == "carol"
    assert info["sub"] == _verify(tokens["access_token"], pool)["sub"]
    refused = requests.get(
        pool["discovery"]["userinfo_endpoint"], headers={"Authorization": "Bearer x.y.z"}, timeout=5
    )
    assert refused.status_code == 401


def test_an_unknown_domain_is_not_found(emulator_url):
    answer = requests.get(f"{emulator_url}/_cognito/no-such-domain/oauth2/authorize", timeout=5)
    assert answer.status_code == 404
