"""Quickstart step 4: the inbound JWT authorizer, and reading a bearer token as it does.

The authorizer trusts a token only if the pool's discovery document names the issuer in
its ``iss`` claim and the key in its ``jwks_uri`` verifies the signature; `verify` does
the same, so a learner sees exactly what the authorizer will see.
"""

from typing import Any

import jwt
import requests

from helpers.backend import Backend
from helpers.cognito import Pool
from helpers.display import Table, table
from helpers.errors import WorkshopError


def discover(backend: Backend, discovery_url: str) -> dict[str, Any]:
    """The pool's OpenID discovery document."""
    return _get_json(backend, discovery_url, "the discovery document")


def _get_json(backend: Backend, url: str, what: str) -> dict[str, Any]:
    try:
        answer = backend.http.get(url, timeout=10)
        answer.raise_for_status()
        return answer.json()
    except (requests.RequestException, ValueError) as error:
        raise WorkshopError(f"Could not read {what} {url}: {error}") from error


def verify(backend: Backend, token: str, discovery_url: str) -> dict[str, Any]:
    """The token's claims, after checking signature, issuer and expiry against discovery."""
    return _verified(backend, token, discover(backend, discovery_url), discovery_url)


def _verified(
    backend: Backend, token: str, document: dict[str, Any], discovery_url: str
) -> dict[str, Any]:
    keys = _get_json(backend, document["jwks_uri"], "the signing keys")
    try:
        key = jwt.PyJWKSet.from_dict(keys)[jwt.get_unverified_header(token).get("kid")]
        return jwt.decode(
            token,
            key.key,
            algorithms=["RS256"],
            issuer=document["issuer"],
            options={"verify_aud": False},  # who a token is for is the authorizer's question
        )
    except (jwt.PyJWTError, KeyError) as error:
        raise WorkshopError(
            f"The token does not verify against {discovery_url}: {error}"
        ) from error


def jwt_authorizer(pool: Pool) -> dict[str, Any]:
    """Let in only access tokens issued by the runtime pool to its app client."""
    return {
        "customJWTAuthorizer": {
            "discoveryUrl": pool.discovery_url,
            "allowedClients": [pool.client_id],
        }
    }


def checks(backend: Backend, authorizer: dict[str, Any], token: str) -> Table:
    """What the JWT authorizer will check of ``token``, one row per check, with the verdict."""
    config = authorizer["customJWTAuthorizer"]
    document = discover(backend, config["discoveryUrl"])
    claims = jwt.decode(token, options={"verify_signature": False})
    key_id = jwt.get_unverified_header(token).get("kid")
    try:
        _verified(backend, token, document, config["discoveryUrl"])
        verified = "yes"
    except WorkshopError:
        verified = "no"
    rows = [
        {
            "Check": "signature (a key of jwks_uri) and expiry",
            "Token has": f"kid {key_id}, exp {claims.get('exp')}",
            "Authorizer wants": document["jwks_uri"],
            "Passes": verified,
        },
        _claim_row("iss", claims.get("iss"), [document["issuer"]]),
    ]
    if "allowedClients" in config:
        rows.append(_claim_row("client_id", claims.get("client_id"), config["allowedClients"]))
    if "allowedAudience" in config:
        rows.append(_claim_row("aud", claims.get("aud"), config["allowedAudience"]))
    if "allowedScopes" in config:
        scopes = claims.get("scope", "").split()
        passes = bool(set(scopes) & set(config["allowedScopes"]))
        rows.append(_claim_row("scope", " ".join(scopes), config["allowedScopes"], passes))
    return table(rows)


def _claim_row(claim: str, value: Any, allowed: list[str], passes: bool | None = None) -> dict:
    passes = value in allowed if passes is None else passes
    return {
        "Check": f"claim {claim}",
        "Token has": "(missing)" if value is None else str(value),
        "Authorizer wants": ", ".join(allowed),
        "Passes": "yes" if passes else "no",
    }
