"""Bad input to AgentCore Identity and the runtime's JWT authorizer is refused in AWS's
4xx shape, never a 500; authorization sessions end; vendor providers name their servers."""

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives.asymmetric import rsa

from helpers.backend import LOCAL_CREDENTIALS
from tests.support import (
    REGION,
    client,
    create_runtime,
    error_of,
    hosted_ui_provider,
    http_error_of,
    invoke_with_bearer,
    pool_with_user,
    upload_agent,
    workload_returning_to,
)

RETURN_URL = "http://127.0.0.1:9/return"  # nobody serves it: no test follows it
RESERVED = (
    "redirect_uri",
    "scope",
    "response_type",
    "state",
    "client_id",
    "code_challenge",
    "code_challenge_method",
)


def _outbound(url: str) -> dict[str, str]:
    """A CustomOauth2 provider on a pool with a hosted UI, a workload, a signed-in user."""
    _, _, provider = hosted_ui_provider(url, "hardening", ["openid"])
    workload = workload_returning_to(url, RETURN_URL)
    wat = client(url, "bedrock-agentcore").get_workload_access_token_for_jwt(
        workloadName=workload, userToken=pool_with_user(url)["access_token"]
    )["workloadAccessToken"]
    return {"url": url, "provider": provider["name"], "workload": workload, "wat": wat}


@pytest.fixture(scope="module")
def outbound(emulator_url):
    return _outbound(emulator_url)


def _start(outbound, **extra) -> dict:
    """GetResourceOauth2Token that opens a new authorization session."""
    return client(outbound["url"], "bedrock-agentcore").get_resource_oauth2_token(
        workloadIdentityToken=outbound["wat"],
        resourceCredentialProviderName=outbound["provider"],
        scopes=["openid"],
        oauth2Flow="USER_FEDERATION",
        resourceOauth2ReturnUrl=RETURN_URL,
        forceAuthentication=True,
        **extra,
    )


def _sent_on(authorization_url: str) -> requests.Response:
    return requests.get(authorization_url, allow_redirects=False, timeout=10)


def _query(location: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(location).query)


# 1. customParameters add to the authorization request, never replace ours


@pytest.mark.parametrize("parameter", RESERVED)
def test_a_custom_parameter_cannot_replace_a_reserved_one(outbound, parameter):
    with pytest.raises(ClientError) as error:
        _start(outbound, customParameters={parameter: "evil", "prompt": "login"})
    assert error_of(error) == ("ValidationException", 400)
    assert parameter in error.value.response["Error"]["Message"]


def test_other_custom_parameters_reach_the_provider_beside_ours(outbound):
    started = _start(outbound, customParameters={"prompt": "login", "login_hint": "dave"})
    sent_on = _sent_on(started["authorizationUrl"])
    assert sent_on.status_code == 302
    query = _query(sent_on.headers["Location"])
    assert query["prompt"] == ["login"] and query["login_hint"] == ["dave"]
    assert query["redirect_uri"][0].startswith(outbound["url"] + "/identities/oauth2/callback/")
    assert query["scope"] == ["openid"] and query["response_type"] == ["code"]
    assert query["code_challenge_method"] == ["S256"]


# 2. Types as the model requires: JSON as a caller may send it, not as botocore would


def _signed_post(url: str, path: str, body: str) -> requests.Response:
    """A data-plane request with any body, signed as boto3 signs (SigV4)."""
    request = AWSRequest(
        method="POST",
        url=url + path,
        data=body,
        headers={"Content-Type": "application/json"},
    )
    credentials = Credentials(
        LOCAL_CREDENTIALS["aws_access_key_id"], LOCAL_CREDENTIALS["aws_secret_access_key"]
    )
    SigV4Auth(credentials, "bedrock-agentcore", REGION).add_auth(request)
    return requests.post(request.url, data=request.body, headers=dict(request.headers), timeout=10)


@pytest.mark.parametrize(
    ("member", "value"),
    [("scopes", "openid"), ("customParameters", {"prompt": 1}), ("forceAuthentication", "yes")],
)
def test_a_member_of_the_wrong_json_type_is_a_validation_error(outbound, member, value):
    body = {
        "workloadIdentityToken": outbound["wat"],
        "resourceCredentialProviderName": outbound["provider"],
        "scopes": ["openid"],
        "oauth2Flow": "USER_FEDERATION",
        "resourceOauth2ReturnUrl": RETURN_URL,
        member: value,
    }
    answer = _signed_post(outbound["url"], "/identities/oauth2/token", json.dumps(body))
    status, code, message = http_error_of(answer)
    assert (status, code) == (400, "ValidationException")
    assert member in message


@pytest.mark.parametrize("body", ["[1, 2]", "null", '"scopes"', "{not json"])
def test_a_body_that_is_no_json_object_is_a_validation_error(emulator_url, body):
    answer = _signed_post(emulator_url, "/identities/oauth2/token", body)
    assert http_error_of(answer)[:2] == (400, "ValidationException")


# The runtime's JWT authorizer, against an identity provider of the test's own


class _IdentityProvider(ThreadingHTTPServer):
    """Discovery and JWKS on loopback, and the private key to sign what the runtime trusts."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _IdentityProviderPages)
        self.issuer = f"http://127.0.0.1:{self.server_address[1]}"
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        self.pages = {
            "/.well-known/openid-configuration": {
                "issuer": self.issuer,
                "jwks_uri": f"{self.issuer}/jwks.json",
            },
            "/jwks.json": {"keys": [{**public, "kid": "test-key", "alg": "RS256", "use": "sig"}]},
        }

    def token(self, **claims) -> str:
        now = int(time.time())
        standard = {
            "iss": self.issuer,
            "sub": "user-1",
            "client_id": "the-client",
            "exp": now + 600,
            "iat": now,
        }
        payload = json.dumps({**standard, **claims}).encode()  # PyJWT would refuse bad types
        return jwt.PyJWS().encode(payload, self.key, algorithm="RS256", headers={"kid": "test-key"})


class _IdentityProviderPages(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        page = self.server.pages.get(self.path)
        body = json.dumps(page).encode()
        self.send_response(200 if page else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        """Quiet: the test's output is for the test."""


@pytest.fixture(scope="module")
def trusted_idp():
    server = _IdentityProvider()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def guarded_runtime(emulator_url, trusted_idp):
    authorizer = {
        "discoveryUrl": f"{trusted_idp.issuer}/.well-known/openid-configuration",
        "allowedClients": ["the-client"],
    }
    return create_runtime(
        emulator_url,
        upload_agent(emulator_url, "context_agent"),
        authorizerConfiguration={"customJWTAuthorizer": authorizer},
    )


def test_a_well_typed_token_of_the_trusted_issuer_is_let_in(
    emulator_url, trusted_idp, guarded_runtime
):
    token = trusted_idp.token(scope="read write")
    assert invoke_with_bearer(emulator_url, guarded_runtime, {}, token=token).status_code == 200


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": "4102444800"},  # 2100: in time, were it a number
        {"exp": True},
        {"iss": ["the issuer", "another"]},
        {"sub": 42},
        {"scope": ["read", "write"]},
        {"scope": 7},
        {"aud": [{"not": "a string"}]},
        {"client_id": ["the-client"]},
    ],
    ids=repr,
)
def test_a_signed_token_with_a_mistyped_claim_is_refused_as_401(
    emulator_url, trusted_idp, guarded_runtime, claims
):
    if claims.get("iss"):
        claims = {**claims, "iss": [trusted_idp.issuer, *claims["iss"]]}
    answer = invoke_with_bearer(
        emulator_url, guarded_runtime, {}, token=trusted_idp.token(**claims)
    )
    status, code, message = http_error_of(answer)
    assert (status, code) == (401, "UnauthorizedException")
    assert next(iter(claims)) in message.lower()


@pytest.mark.parametrize(
    "claims",
    [{"exp": "9999999999"}, {"iss": ["a", "b"]}, {"scope": ["read"]}],
    ids=repr,
)
def test_an_unsigned_token_with_a_mistyped_claim_is_refused_as_401(
    emulator_url, guarded_runtime, claims
):
    payload = json.dumps({"sub": "user-1", "client_id": "the-client", **claims}).encode()
    forged = jwt.PyJWS().encode(payload, None, algorithm="none")
    answer = invoke_with_bearer(emulator_url, guarded_runtime, {}, token=forged)
    assert http_error_of(answer)[:2] == (401, "UnauthorizedException")


# 3. Authorization sessions end


def test_an_expired_authorization_session_fails_then_is_dropped(time_machine):
    make_client, move_clock = time_machine
    outbound = _outbound(make_client("sts").meta.endpoint_url)
    started = _start(outbound)
    sent_on = _sent_on(started["authorizationUrl"])
    assert sent_on.status_code == 302
    query = _query(sent_on.headers["Location"])
    callback = f"{query['redirect_uri'][0]}?code=any&state={query['state'][0]}"
    poll = {"sessionUri": started["sessionUri"]}
    data = make_client("bedrock-agentcore")

    def poll_session() -> dict:
        return data.get_resource_oauth2_token(
            workloadIdentityToken=outbound["wat"],
            resourceCredentialProviderName=outbound["provider"],
            scopes=["openid"],
            oauth2Flow="USER_FEDERATION",
            **poll,
        )

    assert poll_session()["sessionStatus"] == "IN_PROGRESS"
    move_clock(11 * 60)  # expired: the poller hears FAILED and stops
    assert poll_session()["sessionStatus"] == "FAILED"
    move_clock(10 * 60)  # a lifetime later: forgotten
    with pytest.raises(ClientError) as error:
        poll_session()
    assert error_of(error) == ("ValidationException", 400)
    assert "expired" in error.value.response["Error"]["Message"]
    assert _sent_on(started["authorizationUrl"]).status_code == 400
    # Held but expired, the callback would say "Already used"; dropped, its state is unknown.
    answer = requests.get(callback, allow_redirects=False, timeout=10)
    assert answer.status_code == 400 and "matches no authorization" in answer.text


# 4. Vendor providers: their real public servers


VENDORS = {
    "GoogleOauth2": (
        "googleOauth2ProviderConfig",
        "https://accounts.google.com",
        "https://accounts.google.com/o/oauth2/v2/auth",
        "https://oauth2.googleapis.com/token",
    ),
    "GithubOauth2": (
        "githubOauth2ProviderConfig",
        "https://github.com",
        "https://github.com/login/oauth/authorize",
        "https://github.com/login/oauth/access_token",
    ),
    "SlackOauth2": (
        "slackOauth2ProviderConfig",
        "https://slack.com",
        "https://slack.com/openid/connect/authorize",
        "https://slack.com/api/openid.connect.token",
    ),
}


@pytest.mark.parametrize("vendor", VENDORS)
def test_a_vendor_provider_names_its_real_authorization_server(outbound, vendor):
    key, issuer, authorize, token = VENDORS[vendor]
    control = client(outbound["url"], "bedrock-agentcore-control")
    name = f"{vendor.lower()}-{uuid.uuid4().hex[:8]}"
    created = control.create_oauth2_credential_provider(
        name=name,
        credentialProviderVendor=vendor,
        oauth2ProviderConfigInput={key: {"clientId": "the-app", "clientSecret": "s3cret"}},
    )
    expected = {"issuer": issuer, "authorizationEndpoint": authorize, "tokenEndpoint": token}
    for answer in (created, control.get_oauth2_credential_provider(name=name)):
        output = answer["oauth2ProviderConfigOutput"][key]
        assert output["oauthDiscovery"]["authorizationServerMetadata"] == expected
        assert output["clientId"] == "the-app" and "clientSecret" not in output
    started = client(outbound["url"], "bedrock-agentcore").get_resource_oauth2_token(
        workloadIdentityToken=outbound["wat"],
        resourceCredentialProviderName=name,
        scopes=["openid"],
        oauth2Flow="USER_FEDERATION",
        resourceOauth2ReturnUrl=RETURN_URL,
    )
    sent_on = _sent_on(started["authorizationUrl"])
    assert sent_on.status_code == 302
    location = sent_on.headers["Location"]
    assert location.startswith(authorize + "?")
    assert _query(location)["client_id"] == ["the-app"]
    assert _query(location)["redirect_uri"] == [created["callbackUrl"]]


@pytest.mark.parametrize("vendor", VENDORS)
def test_m2m_on_a_vendor_provider_is_a_validation_error(outbound, vendor):
    key = VENDORS[vendor][0]
    name = f"{vendor.lower()}-{uuid.uuid4().hex[:8]}"
    client(outbound["url"], "bedrock-agentcore-control").create_oauth2_credential_provider(
        name=name,
        credentialProviderVendor=vendor,
        oauth2ProviderConfigInput={key: {"clientId": "the-app", "clientSecret": "s3cret"}},
    )
    data = client(outbound["url"], "bedrock-agentcore")
    wat = data.get_workload_access_token(workloadName=outbound["workload"])["workloadAccessToken"]
    with pytest.raises(ClientError) as error:
        data.get_resource_oauth2_token(
            workloadIdentityToken=wat,
            resourceCredentialProviderName=name,
            scopes=["openid"],
            oauth2Flow="M2M",
        )
    assert error_of(error) == ("ValidationException", 400)
    assert "M2M" in error.value.response["Error"]["Message"]


def test_an_included_vendor_names_the_servers_it_was_given(outbound):
    control = client(outbound["url"], "bedrock-agentcore-control")
    servers = {
        "issuer": "https://example.okta.com",
        "authorizationEndpoint": "https://example.okta.com/oauth2/v1/authorize",
        "tokenEndpoint": "https://example.okta.com/oauth2/v1/token",
    }
    config = {"clientId": "the-app", "clientSecret": "s3cret", **servers}
    name = f"okta-{uuid.uuid4().hex[:8]}"
    control.create_oauth2_credential_provider(
        name=name,
        credentialProviderVendor="OktaOauth2",
        oauth2ProviderConfigInput={"includedOauth2ProviderConfig": config},
    )
    output = control.get_oauth2_credential_provider(name=name)["oauth2ProviderConfigOutput"]
    assert output["includedOauth2ProviderConfig"]["oauthDiscovery"] == {
        "authorizationServerMetadata": servers
    }


def test_an_included_vendor_without_its_servers_is_a_validation_error(outbound):
    control = client(outbound["url"], "bedrock-agentcore-control")
    with pytest.raises(ClientError) as error:
        control.create_oauth2_credential_provider(
            name=f"auth0-{uuid.uuid4().hex[:8]}",
            credentialProviderVendor="Auth0Oauth2",
            oauth2ProviderConfigInput={
                "includedOauth2ProviderConfig": {"clientId": "a", "clientSecret": "s"}
            },
        )
    assert error_of(error) == ("ValidationException", 400)
    assert (
        "issuer, authorizationEndpoint, tokenEndpoint" in error.value.response["Error"]["Message"]
    )
