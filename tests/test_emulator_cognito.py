"""Cognito on the local backend, checked with boto3 and an independent JWT client (PyJWT)."""

import json
import uuid

import jwt
import pytest
import requests
from botocore.exceptions import ClientError
from moto.utilities.utils import load_resource

from helpers.cognito import secret_hash
from tests.support import error_of

PASSWORD = "Correct-Horse=9*$"
WELL_KNOWN = "/.well-known/openid-configuration"


def _make_pool(idp, *, domain: bool = False, **client_config) -> dict:
    pool_id = idp.create_user_pool(PoolName=f"pool-{uuid.uuid4().hex[:8]}")["UserPool"]["Id"]
    if domain:
        idp.create_user_pool_domain(Domain=f"d-{uuid.uuid4().hex[:8]}", UserPoolId=pool_id)
    client = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="client", **client_config)[
        "UserPoolClient"
    ]
    idp.admin_create_user(UserPoolId=pool_id, Username="alice")
    idp.admin_set_user_password(
        UserPoolId=pool_id, Username="alice", Password=PASSWORD, Permanent=True
    )
    return {"id": pool_id, "client_id": client["ClientId"], "secret": client.get("ClientSecret")}


@pytest.fixture(scope="module")
def pool(idp):
    return _make_pool(idp, domain=True, ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"])


@pytest.fixture(scope="module")
def other_pool(idp):
    return _make_pool(idp, ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"])


@pytest.fixture(scope="module")
def secret_pool(idp):
    return _make_pool(
        idp,
        GenerateSecret=True,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )


def _sign_in(idp, pool: dict, **extra) -> dict:
    return idp.initiate_auth(
        ClientId=pool["client_id"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD, **extra},
    )["AuthenticationResult"]


def _verify_strictly(token: str, discovery_url: str, **options) -> dict:
    """What a strict OIDC relying party does: issuer from the URL it fetched, key from JWKS."""
    expected_issuer = discovery_url.removesuffix(WELL_KNOWN)
    document = requests.get(discovery_url, timeout=5).json()
    assert document["issuer"] == expected_issuer
    key = jwt.PyJWKClient(document["jwks_uri"]).get_signing_key_from_jwt(token)
    return jwt.decode(token, key.key, algorithms=["RS256"], issuer=expected_issuer, **options)


def test_access_token_verifies_through_discovery_with_strict_issuer(idp, pool, emulator_url):
    token = _sign_in(idp, pool)["AccessToken"]
    claims = _verify_strictly(token, f"{emulator_url}/{pool['id']}{WELL_KNOWN}")
    assert claims["iss"] == f"{emulator_url}/{pool['id']}"
    assert claims["client_id"] == pool["client_id"]
    assert claims["token_use"] == "access"
    assert "aud" not in claims


def test_id_token_verifies_with_the_client_as_audience(idp, pool, emulator_url):
    token = _sign_in(idp, pool)["IdToken"]
    claims = _verify_strictly(
        token, f"{emulator_url}/{pool['id']}{WELL_KNOWN}", audience=pool["client_id"]
    )
    assert claims["token_use"] == "id"


def test_refreshed_token_verifies_too(idp, secret_pool, emulator_url):
    hashed = secret_hash("alice", secret_pool["client_id"], secret_pool["secret"])
    refresh = _sign_in(idp, secret_pool, SECRET_HASH=hashed)["RefreshToken"]
    token = idp.initiate_auth(
        ClientId=secret_pool["client_id"],
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": refresh, "SECRET_HASH": hashed},
    )["AuthenticationResult"]["AccessToken"]
    assert _verify_strictly(token, f"{emulator_url}/{secret_pool['id']}{WELL_KNOWN}")


def test_token_signed_with_motos_published_key_is_rejected(idp, pool, emulator_url):
    genuine = _sign_in(idp, pool)["AccessToken"]
    claims = jwt.decode(genuine, options={"verify_signature": False})
    published = jwt.PyJWK(load_resource("cognitoidp/resources/jwks-private.json"))
    for kid in ("dummy", jwt.get_unverified_header(genuine)["kid"]):
        forged = jwt.encode(claims, published.key, algorithm="RS256", headers={"kid": kid})
        with pytest.raises(jwt.PyJWTError):
            _verify_strictly(forged, f"{emulator_url}/{pool['id']}{WELL_KNOWN}")


def test_token_from_another_pool_does_not_verify(idp, pool, other_pool, emulator_url):
    token = _sign_in(idp, other_pool)["AccessToken"]
    with pytest.raises(jwt.PyJWTError):
        _verify_strictly(token, f"{emulator_url}/{pool['id']}{WELL_KNOWN}")


def test_each_pool_publishes_its_own_key(pool, other_pool, emulator_url):
    def kids(pool_id: str) -> list[str]:
        jwks = requests.get(f"{emulator_url}/{pool_id}/.well-known/jwks.json", timeout=5).json()
        return [key["kid"] for key in jwks["keys"]]

    assert kids(pool["id"]) != kids(other_pool["id"])
    assert "dummy" not in kids(pool["id"])
    private_parts = {"d", "p", "q", "dp", "dq", "qi"}
    jwks = requests.get(f"{emulator_url}/{pool['id']}/.well-known/jwks.json", timeout=5).json()
    assert not private_parts & set(jwks["keys"][0])


def test_discovery_document_of_a_pool_with_domain_names_the_hosted_ui(pool, emulator_url):
    document = requests.get(f"{emulator_url}/{pool['id']}{WELL_KNOWN}", timeout=5).json()
    for endpoint in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint"):
        assert document[endpoint].startswith(f"{emulator_url}/"), endpoint
    assert document["jwks_uri"] == f"{emulator_url}/{pool['id']}/.well-known/jwks.json"
    assert set(document["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "client_secret_post",
    }
    assert "openid" in document["scopes_supported"]


def test_discovery_document_of_a_pool_without_domain_has_no_hosted_ui(other_pool, emulator_url):
    document = requests.get(f"{emulator_url}/{other_pool['id']}{WELL_KNOWN}", timeout=5).json()
    assert "authorization_endpoint" not in document
    assert document["issuer"] == f"{emulator_url}/{other_pool['id']}"


@pytest.mark.parametrize("document", ["openid-configuration", "jwks.json"])
def test_unknown_pool_documents_are_404(emulator_url, document):
    answer = requests.get(
        f"{emulator_url}/us-east-1_doesnotexist/.well-known/{document}", timeout=5
    )
    assert answer.status_code == 404
    assert "issuer" not in json.loads(answer.text)


def test_correct_secret_hash_signs_in(idp, secret_pool):
    hashed = secret_hash("alice", secret_pool["client_id"], secret_pool["secret"])
    assert _sign_in(idp, secret_pool, SECRET_HASH=hashed)["AccessToken"]


def test_wrong_secret_hash_is_rejected(idp, secret_pool):
    with pytest.raises(ClientError) as error:
        _sign_in(idp, secret_pool, SECRET_HASH="bm90IHRoZSBoYXNo")
    assert error_of(error) == ("NotAuthorizedException", 400)
    assert error.value.response["Error"]["Message"] == (
        f"Unable to verify secret hash for client {secret_pool['client_id']}"
    )
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


@pytest.mark.parametrize(
    "flows", [None, ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]], ids=["default", "srp"]
)
def test_user_password_auth_needs_the_flow_enabled(idp, flows):
    config = {"ExplicitAuthFlows": flows} if flows else {}
    pool = _make_pool(idp, **config)
    with pytest.raises(ClientError) as error:
        _sign_in(idp, pool)
    assert error_of(error) == ("InvalidParameterException", 400)
    assert error.value.response["Error"]["Message"] == (
        "USER_PASSWORD_AUTH flow not enabled for this client"
    )


def test_wrong_password_keeps_cognitos_answer(idp, pool):
    with pytest.raises(ClientError) as error:
        idp.initiate_auth(
            ClientId=pool["client_id"],
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "alice", "PASSWORD": "wrong"},
        )
    assert error_of(error) == ("NotAuthorizedException", 400)


def test_updating_a_client_resets_what_the_update_omits(idp):
    pool = _make_pool(
        idp,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"],
        AllowedOAuthFlows=["code"],
        AllowedOAuthScopes=["openid"],
        CallbackURLs=["http://127.0.0.1:1/cb"],
    )
    idp.update_user_pool_client(
        UserPoolId=pool["id"], ClientId=pool["client_id"], CallbackURLs=["http://127.0.0.1:1/new"]
    )
    client = idp.describe_user_pool_client(UserPoolId=pool["id"], ClientId=pool["client_id"])[
        "UserPoolClient"
    ]
    assert client["CallbackURLs"] == ["http://127.0.0.1:1/new"]
    assert client["ClientName"] == "client"
    assert "AllowedOAuthFlows" not in client
    assert "ExplicitAuthFlows" not in client
