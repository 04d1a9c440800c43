"""Cognito user pools: where moto is too lax or too shared for this workshop, and discovery.

moto signs every pool's tokens with one RSA key that ships inside moto (anyone can forge
them), names an AWS issuer that the local discovery URL cannot match, lets any client use
any auth flow without its secret, and merges a client update where Cognito replaces the
whole configuration. The workshop's troubleshooting depends on all of these, so this
module patches moto's Cognito model in this process only and serves the pool's
`.well-known` documents itself.
"""

import json
import re
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey
from moto.cognitoidp import models
from moto.cognitoidp.exceptions import InvalidParameterException, NotAuthorizedError
from moto.cognitoidp.utils import check_secret_hash
from werkzeug.wrappers import Request, Response

from emulator import site
from emulator.backends import every_backend
from emulator.wsgi import json_response

WELL_KNOWN = re.compile(
    r"^/(?P<pool_id>[a-z]{2}(?:-[a-z]+)+-\d_[0-9A-Za-z]+)"
    r"/\.well-known/(?P<document>openid-configuration|jwks\.json)$"
)
HOSTED_UI_PREFIX = "/_cognito"

# Cognito's defaults for a client created without ExplicitAuthFlows.
DEFAULT_AUTH_FLOWS = ("ALLOW_USER_SRP_AUTH", "ALLOW_CUSTOM_AUTH", "ALLOW_REFRESH_TOKEN_AUTH")


def issuer(pool_id: str) -> str:
    return f"{site.base_url}/{pool_id}"


def hosted_ui_url(domain: str) -> str:
    """Where the hosted UI of a pool domain lives on this server (AWS: its own host)."""
    return f"{site.base_url}{HOSTED_UI_PREFIX}/{domain}"


def find_pool(pool_id: str) -> models.CognitoIdpUserPool | None:
    for backend in every_backend(models.cognitoidp_backends):
        if pool_id in backend.user_pools:
            return backend.user_pools[pool_id]
    return None


def verify_user_token(token: str) -> dict[str, Any]:
    """The claims of a token one of this emulator's pools issued: signature, issuer, expiry.

    Raises ValueError with the reason a relying party would give.
    """
    try:
        issuer_claim = json.loads(jws.extract_compact(token.encode()).payload).get("iss", "")
    except (JoseError, ValueError, AttributeError) as error:
        raise ValueError("the token is not a signed JWT") from error
    pool = find_pool(issuer_claim.rsplit("/", 1)[-1])
    if pool is None or issuer(pool.id) != issuer_claim:
        raise ValueError(f"the issuer {issuer_claim!r} is not a user pool of this backend")
    try:
        claims = jwt.decode(token, pool.json_web_key, algorithms=["RS256"]).claims
        jwt.JWTClaimsRegistry(exp={"essential": True}).validate(claims)
    except JoseError as error:
        raise ValueError(
            f"the token does not verify: {error.description or error.error}"
        ) from error
    return claims


def public_jwks(pool: models.CognitoIdpUserPool) -> dict[str, Any]:
    return {"keys": [pool.json_web_key.as_dict(private=False)]}


def _pool_init(original):
    def __init__(self, *args, **kwargs):
        original(self, *args, **kwargs)
        # Set before moto stores the pool, so no request ever sees it with moto's shared key.
        self.json_web_key = RSAKey.generate_key(
            2048, parameters={"use": "sig", "alg": "RS256"}, auto_kid=True
        )

    return __init__


def _create_jwt(original):
    def create_jwt(self, client_id, username, token_use, expires_in=3600, extra_data=None):
        # moto applies extra_data after its own claims, so this overrides its AWS issuer.
        extra = {**(extra_data or {}), "iss": issuer(self.id)}
        token, expires = original(self, client_id, username, token_use, expires_in, extra)
        # moto hard-codes kid "dummy"; re-sign so the header names this pool's key.
        claims = jwt.decode(token, self.json_web_key).claims
        header = {"alg": "RS256", "kid": self.json_web_key.kid, "typ": "JWT"}
        return jwt.encode(header, claims, self.json_web_key), expires

    return create_jwt


def _initiate_auth(original):
    def initiate_auth(self, client_id, auth_flow, auth_parameters):
        if auth_flow == "USER_PASSWORD_AUTH":
            for pool in list(self.user_pools.values()):
                if client_id in pool.clients:
                    _check_user_password_auth(pool.clients[client_id], auth_parameters or {})
        return original(self, client_id, auth_flow, auth_parameters)

    return initiate_auth


def _update_user_pool_client(original):
    def update_user_pool_client(self, user_pool_id, client_id, extended_config):
        client = original(self, user_pool_id, client_id, {})  # moto's checks, nothing merged
        # Cognito replaces the configuration: whatever the update omits returns to its default.
        defaults = models.CognitoIdpUserPoolClient(user_pool_id, False, None).extended_config
        name = client.extended_config.get("ClientName")
        client.extended_config = {**defaults, "ClientName": name, **extended_config}
        return client

    return update_user_pool_client


def _check_user_password_auth(client: models.CognitoIdpUserPoolClient, params: dict) -> None:
    flows = client.extended_config.get("ExplicitAuthFlows") or DEFAULT_AUTH_FLOWS
    if not {"ALLOW_USER_PASSWORD_AUTH", "USER_PASSWORD_AUTH"} & set(flows):
        raise InvalidParameterException("USER_PASSWORD_AUTH flow not enabled for this client")
    if client.generate_secret and not check_secret_hash(
        client.secret, client.id, params.get("USERNAME", ""), params.get("SECRET_HASH")
    ):
        raise NotAuthorizedError(f"Unable to verify secret hash for client {client.id}")


def install() -> None:
    """Patch moto's Cognito model for this process; call once, before serving."""
    pool, backend = models.CognitoIdpUserPool, models.CognitoIdpBackend
    pool.__init__ = _pool_init(pool.__init__)
    pool.create_jwt = _create_jwt(pool.create_jwt)
    backend.initiate_auth = _initiate_auth(backend.initiate_auth)
    backend.update_user_pool_client = _update_user_pool_client(backend.update_user_pool_client)


def discovery_document(pool: models.CognitoIdpUserPool) -> dict[str, Any]:
    base = issuer(pool.id)
    document = {
        "issuer": base,
        "jwks_uri": f"{base}/.well-known/jwks.json",
        "response_types_supported": ["code", "token"],
        "scopes_supported": ["openid", "email", "phone", "profile"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
    }
    if pool.domain is not None:
        hosted = hosted_ui_url(pool.domain.domain)
        document |= {
            "authorization_endpoint": f"{hosted}/oauth2/authorize",
            "token_endpoint": f"{hosted}/oauth2/token",
            "userinfo_endpoint": f"{hosted}/oauth2/userInfo",
        }
    return document


def well_known(environ: dict, start_response) -> Response:
    """GET /<poolId>/.well-known/(openid-configuration|jwks.json); 404 for unknown pools."""
    match = WELL_KNOWN.match(Request(environ).path)
    pool = find_pool(match["pool_id"]) if match else None
    if pool is None:
        response = json_response({"message": "User pool not found"}, 404)
    elif match["document"] == "jwks.json":
        response = json_response(public_jwks(pool))
    else:
        response = json_response(discovery_document(pool))
    return response(environ, start_response)
