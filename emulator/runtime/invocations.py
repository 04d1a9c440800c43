"""InvokeAgentRuntime: inbound auth, then the request forwarded to the agent, streamed back.

A runtime with a `customJWTAuthorizer` takes only bearer tokens, checked the way AgentCore
Runtime checks them (discovery → JWKS signature, issuer, expiry, allowed clients, audience
and scopes); one without takes only SigV4. The agent receives a workload access token
for the caller, the session id and a request id, and `Authorization` only if allow-listed.
The ``qualifier`` names the endpoint, whose live version's configuration (authorizer,
allow-listed headers) and agent process serve the request.
"""

import threading
import uuid
from typing import Any

import jwt
import requests
from werkzeug.wrappers import Request, Response

from emulator.endpoints import AGENT, IDENTITY, RUNTIME
from emulator.exceptions import (
    AccessDeniedException,
    ResourceNotFoundException,
    RuntimeClientError,
    UnauthorizedException,
    ValidationException,
)
from emulator.identity.models import sha256
from emulator.runtime.models import DEFAULT, AgentRuntime, RuntimeEndpoint, runtime_backends
from emulator.trace import TRACES

# The headers of AgentCore Runtime's wire contract, as the SDK's agent reads them
# (bedrock_agentcore.runtime.models, which tests compare these with: importing it loads
# the SDK's whole runtime package, a fifth of a second in every backend).
AUTHORIZATION_HEADER = "Authorization"
SESSION_HEADER = "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id"
REQUEST_ID_HEADER = "X-Amzn-Bedrock-AgentCore-Runtime-Request-Id"
ACCESS_TOKEN_HEADER = "WorkloadAccessToken"
CUSTOM_HEADER_PREFIX = "X-Amzn-Bedrock-AgentCore-Runtime-Custom-"
USER_ID_HEADER = "X-Amzn-Bedrock-AgentCore-Runtime-User-Id"
MIN_SESSION_ID = 33
METHOD_MISMATCH = (
    "Authorization method mismatch. The agent is configured for a different authorization "
    "method than what was used in your request (OAuth or SigV4)."
)
# Seconds an identity provider has to answer for its discovery document or JWKS (our
# choice: AWS documents none); a slower one is a 401, as an unreachable one is.
DISCOVERY_TIMEOUT = 2.0


class _Discovery:
    """Discovery documents and JWKS clients, fetched once per discovery URL.

    Each URL has a lock of its own, so a slow or dead identity provider stalls only the
    runtimes that name it; waiting for another caller's fetch is bounded by the same
    timeout as fetching, and a failed fetch is not cached, so the next call tries again.
    """

    def __init__(self, timeout: float = DISCOVERY_TIMEOUT) -> None:
        self._timeout = timeout
        self._locks_guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._cache: dict[str, tuple[str, jwt.PyJWKClient]] = {}

    def get(self, discovery_url: str) -> tuple[str, jwt.PyJWKClient]:
        if (found := self._cache.get(discovery_url)) is not None:
            return found
        with self._locks_guard:
            lock = self._locks.setdefault(discovery_url, threading.Lock())
        if not lock.acquire(timeout=self._timeout):
            raise requests.Timeout(f"{discovery_url} did not answer within {self._timeout} s")
        try:
            if discovery_url not in self._cache:
                self._cache[discovery_url] = self._fetch(discovery_url)
            return self._cache[discovery_url]
        finally:
            lock.release()

    def _fetch(self, discovery_url: str) -> tuple[str, jwt.PyJWKClient]:
        answer = requests.get(discovery_url, timeout=self._timeout)
        answer.raise_for_status()
        document = answer.json()
        issuer = document.get("issuer") if isinstance(document, dict) else None
        jwks_uri = document.get("jwks_uri") if isinstance(document, dict) else None
        if not isinstance(issuer, str) or not isinstance(jwks_uri, str):
            raise ValueError(f"{discovery_url} names no issuer and jwks_uri")
        return issuer, jwt.PyJWKClient(jwks_uri, timeout=self._timeout)


_discovery = _Discovery()


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_string_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


# The claims the authorizer reads, and the JSON type each must have: NumericDate is a JSON
# number and StringOrURI a string (RFC 7519 §2, §4.1); `aud` a string or an array of them;
# `scope` one space-separated string (RFC 8693 §4.2); `client_id` as Cognito writes it.
# PyJWT reads "exp": "1700000000" as a number, so the types are checked here.
_CLAIM_TYPES = {
    "exp": _is_number,
    "nbf": _is_number,
    "iat": _is_number,
    "iss": lambda value: isinstance(value, str),
    "sub": lambda value: isinstance(value, str),
    "aud": lambda value: isinstance(value, str) or _is_string_list(value),
    "scope": lambda value: isinstance(value, str),
    "client_id": lambda value: isinstance(value, str),
}


def _check_claim_types(claims: dict[str, Any]) -> None:
    for name, well_typed in _CLAIM_TYPES.items():
        if name in claims and not well_typed(claims[name]):
            raise UnauthorizedException(f"Invalid bearer token: claim '{name}' is malformed.")


def check_bearer_token(authorizer: dict[str, Any], token: str) -> dict[str, Any]:
    """The token's claims if the runtime's JWT authorizer lets it in."""
    try:
        issuer, keys = _discovery.get(authorizer["discoveryUrl"])
        key = keys.get_signing_key_from_jwt(token)
        claims = jwt.decode(
            token,
            key.key,
            algorithms=["RS256"],
            issuer=issuer,
            options={"verify_aud": False, "require": ["exp", "iss", "sub"]},
        )
    except (requests.RequestException, ValueError, KeyError) as error:
        raise UnauthorizedException(
            f"Could not read the authorizer's discovery document: {error}"
        ) from error
    except jwt.PyJWTError as error:
        raise UnauthorizedException(f"Invalid bearer token: {error}") from error
    _check_claim_types(claims)
    if (clients := authorizer.get("allowedClients")) and claims.get("client_id") not in clients:
        raise UnauthorizedException("Claim 'client_id' value mismatch with configuration.")
    audience = claims.get("aud", [])
    audience = [audience] if isinstance(audience, str) else audience
    if (allowed := authorizer.get("allowedAudience")) and not set(audience) & set(allowed):
        raise UnauthorizedException("Claim 'aud' value mismatch with configuration.")
    scopes = set(claims.get("scope", "").split())
    if (allowed := authorizer.get("allowedScopes")) and not scopes & set(allowed):
        raise UnauthorizedException("Claim 'scope' value mismatch with configuration.")
    return claims


def _find_endpoint(request: Request) -> tuple[AgentRuntime, RuntimeEndpoint]:
    arn = request.path[len("/runtimes/") : -len("/invocations")]
    parts = arn.split(":")
    if len(parts) != 6 or not parts[5].startswith("runtime/"):
        raise ValidationException(f"{arn!r} is not an agent runtime ARN.")
    account_backends = runtime_backends.get(parts[4])
    backend = dict.get(account_backends, parts[3]) if account_backends else None
    runtime = backend.find_by_arn(arn) if backend else None
    if runtime is None:
        raise ResourceNotFoundException(f"No agent runtime {arn}.")
    qualifier = request.args.get("qualifier", DEFAULT)
    endpoint = runtime.endpoints.get(qualifier)
    if endpoint is None:
        raise ResourceNotFoundException(f"No endpoint {qualifier} for agent runtime {runtime.id}.")
    return runtime, endpoint


def _live_config(runtime: AgentRuntime, endpoint: RuntimeEndpoint) -> dict[str, Any]:
    """The configuration of the version the endpoint serves (its target until it is live)."""
    return runtime.versions[endpoint.live_version or endpoint.target_version]


def _workload_access_token(
    runtime: AgentRuntime, config: dict[str, Any], request: Request, session: str
) -> str | None:
    """Authenticate the caller; the token the agent gets for them (None: SigV4, no user id)."""
    authorization = request.headers.get(AUTHORIZATION_HEADER, "")
    identity = runtime_backends[runtime.account][runtime.region].identity
    authorizer = (config.get("authorizerConfiguration") or {}).get("customJWTAuthorizer")
    if authorizer is None:
        if not authorization:
            raise AccessDeniedException("Missing Authentication Token")
        if not authorization.startswith("AWS4-HMAC-SHA256"):
            raise AccessDeniedException(METHOD_MISMATCH)
        user_id = request.headers.get(USER_ID_HEADER)
        if user_id is None:
            return None
        return identity.service_workload_access_token(runtime.id, user_id=user_id, trace=session)
    if authorization.startswith("AWS4-HMAC-SHA256"):
        raise AccessDeniedException(METHOD_MISMATCH)
    if not authorization.startswith("Bearer "):
        raise UnauthorizedException("Missing bearer token.")
    bearer = authorization.removeprefix("Bearer ").strip()
    with TRACES.hop(session, RUNTIME, RUNTIME, "JWT authorizer checks the bearer token"):
        claims = check_bearer_token(authorizer, bearer)
    with TRACES.hop(session, RUNTIME, IDENTITY, "workload access token for (agent, you)"):
        return identity.service_workload_access_token(
            runtime.id,
            issuer=claims["iss"],
            subject=claims["sub"],
            user_token_sha256=sha256(bearer),
            trace=session,
        )


def _forwarded_headers(config: dict[str, Any], request: Request, session: str, wat: str | None):
    allowed = (config.get("requestHeaderConfiguration") or {}).get("requestHeaderAllowlist", [])
    allowed_lower = {name.lower() for name in allowed}
    headers = {
        name: value
        for name, value in request.headers.items()
        if name.lower() in allowed_lower or name.lower().startswith(CUSTOM_HEADER_PREFIX.lower())
    }
    for name in ("Content-Type", "Accept"):
        if name in request.headers:
            headers[name] = request.headers[name]
    headers[SESSION_HEADER] = session
    headers[REQUEST_ID_HEADER] = str(uuid.uuid4())
    if wat is not None:
        headers[ACCESS_TOKEN_HEADER] = wat
    return headers


def _forward(
    runtime: AgentRuntime, endpoint: RuntimeEndpoint, request: Request, session: str
) -> requests.Response:
    """The agent's answer, streaming; refused as AWS refuses when the agent cannot answer."""
    config = _live_config(runtime, endpoint)
    wat = _workload_access_token(runtime, config, request, session)
    process = runtime_backends[runtime.account][runtime.region].ensure_agent(runtime, endpoint)
    if process is None:
        raise RuntimeClientError(f"The endpoint {endpoint.name} is {endpoint.status}, not serving.")
    with TRACES.hop(session, RUNTIME, AGENT, "POST /invocations, workload access token") as hop:
        try:
            upstream = requests.post(
                f"{process.url}/invocations",
                data=request.get_data(),
                headers=_forwarded_headers(config, request, session, wat),
                stream=True,
                timeout=(5, 900),
            )
        except requests.RequestException as error:
            process.settle()
            raise RuntimeClientError(f"The agent did not answer: {error}") from error
        hop.status = upstream.status_code
    if upstream.status_code >= 400:
        upstream.close()
        raise RuntimeClientError(
            f"Received error ({upstream.status_code}) from runtime. "
            "Please check your CloudWatch logs for more information."
        )
    return upstream


def app(environ: dict, start_response):
    """POST /runtimes/<url-encoded runtime ARN>/invocations[?qualifier=<endpoint name>]."""
    request = Request(environ)
    runtime, endpoint = _find_endpoint(request)
    session = request.headers.get(SESSION_HEADER, "")
    if len(session) < MIN_SESSION_ID:
        raise ValidationException(
            f"{SESSION_HEADER} must be at least {MIN_SESSION_ID} characters long."
        )
    upstream = _forward(runtime, endpoint, request, session)

    def relay():
        try:
            yield from upstream.iter_content(chunk_size=None)
        except requests.RequestException:
            return  # the agent died mid-answer: the caller sees the stream end
        finally:
            upstream.close()

    response = Response(relay(), status=upstream.status_code, direct_passthrough=True)
    response.headers["Content-Type"] = upstream.headers.get("Content-Type", "application/json")
    response.headers[SESSION_HEADER] = session
    return response(environ, start_response)
