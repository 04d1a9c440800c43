"""Reading a bearer token the way AgentCore Runtime's JWT authorizer does.

The authorizer trusts a token only if the pool's discovery document names the issuer in
its ``iss`` claim and the key in its ``jwks_uri`` verifies the signature; this module
does the same, so a learner sees exactly what the authorizer will see.
"""

from typing import Any

import jwt
import requests

from helpers.errors import WorkshopError


def discover(discovery_url: str) -> dict[str, Any]:
    """The pool's OpenID discovery document."""
    try:
        answer = requests.get(discovery_url, timeout=10)
        answer.raise_for_status()
        return answer.json()
    except (requests.RequestException, ValueError) as error:
        raise WorkshopError(
            f"Could not read the discovery document {discovery_url}: {error}"
        ) from error


def verify(token: str, discovery_url: str) -> dict[str, Any]:
    """The token's claims, after checking signature, issuer and expiry against discovery."""
    document = discover(discovery_url)
    try:
        key = jwt.PyJWKClient(document["jwks_uri"]).get_signing_key_from_jwt(token)
        return jwt.decode(
            token,
            key.key,
            algorithms=["RS256"],
            issuer=document["issuer"],
            options={"verify_aud": False},  # who a token is for is the authorizer's question
        )
    except jwt.PyJWTError as error:
        raise WorkshopError(
            f"The token does not verify against {discovery_url}: {error}"
        ) from error
