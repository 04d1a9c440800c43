"""Each pool's issuer, OpenID discovery document and JWKS, as a relying party reads them.

On AWS the issuer is ``https://cognito-idp.<region>.amazonaws.com/<poolId>`` and the
discovery document lives below it; here both are on this server, so the discovery URL a
learner derives from the endpoint matches the ``iss`` of every token (see `patches`).
"""

import json
import re
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import JoseError
from moto.cognitoidp import models
from werkzeug.wrappers import Request, Response

from emulator import site
from emulator.backends import every_backend
from emulator.endpoints import HOSTED_UI_PREFIX
from emulator.wsgi import json_response

WELL_KNOWN = re.compile(
    r"^/(?P<pool_id>[a-z]{2}(?:-[a-z]+)+-\d_[0-9A-Za-z]+)"
    r"/\.well-known/(?P<document>openid-configuration|jwks\.json)$"
)


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
