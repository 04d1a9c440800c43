"""The token vault and the 3-legged OAuth flow (USER_FEDERATION), plus M2M tokens.

1. GetResourceOauth2Token finds no token in the vault for (workload, user, provider,
   scopes): it opens an authorization session and answers with an authorization URL.
2. The user's browser opens it and is sent on to the provider's sign-in page; the
   provider sends the browser back to the credential provider's callback, where the
   code is exchanged for the user's tokens (authlib's OAuth 2.0 client does both steps).
3. The browser is sent on to the agent's return URL with ``session_id``; the page there
   calls CompleteResourceTokenAuth for the *same* user, and only then is the token vaulted.
"""

import logging
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session

from emulator import site
from emulator.endpoints import COGNITO, IDENTITY
from emulator.exceptions import AccessDeniedException, ValidationException
from emulator.identity.tokens import WorkloadToken
from emulator.trace import TRACES

# Seconds an authorization session lives: AWS documents no figure for its authorization
# URLs; ten minutes is the SDK's polling limit (DEFAULT_POLLING_TIMEOUT_SECONDS). Then the
# session is dropped, whatever its status.
SESSION_LIFETIME = 600
# What the authorization request is made of: customParameters may add to it, never replace
# it (the callback, the scopes asked for, PKCE and the state that binds the session).
RESERVED_PARAMETERS = frozenset(
    {
        "client_id",
        "code_challenge",
        "code_challenge_method",
        "redirect_uri",
        "response_type",
        "scope",
        "state",
    }
)
REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:"
EXPIRED_SESSION = "Invalid or expired session"
# What AWS answers when the provider refuses an M2M request (invalid_scope, invalid_client …):
# it does not pass the provider's error on (bedrock-agentcore-sdk-python#81, a maintainer's
# reply). The local backend writes the provider's answer to its log instead.
CLIENT_CREDENTIALS_REFUSED = "Error parsing ClientCredentials response"
log = logging.getLogger("emulator")


@dataclass
class VaultedToken:
    access_token: str
    expires: float

    @property
    def valid(self) -> bool:
        return self.expires > time.time() + 30


@dataclass
class AuthorizationSession:
    uri: str
    key: tuple  # (workload, user, provider, scopes): where the token will be vaulted
    token_owner: WorkloadToken  # who started the flow, to bind it to no one else
    scopes: tuple[str, ...]
    return_url: str
    custom_state: str | None
    custom_parameters: dict[str, str]
    state: str = field(default_factory=lambda: generate_token(32))
    code_verifier: str = field(default_factory=lambda: generate_token(48))
    status: str = "IN_PROGRESS"  # → AUTHORIZED (code exchanged) → COMPLETE (bound), or FAILED
    token: dict[str, Any] | None = None
    expires: float = field(default_factory=lambda: time.time() + SESSION_LIFETIME)

    @property
    def trace(self) -> str | None:
        """The runtime session that started the flow (`emulator.trace`)."""
        return self.token_owner.trace

    @property
    def authorization_url(self) -> str:
        return f"{site.base_url}/identities/oauth2/authorize?request_uri={quote(self.uri, safe='')}"

    @property
    def expired(self) -> bool:
        return self.expires < time.time()

    @property
    def forgotten(self) -> bool:
        """Expired for a lifetime more: long enough for a poller to have heard FAILED."""
        return self.expires + SESSION_LIFETIME < time.time()

    def answer(self) -> dict[str, str]:
        if self.status == "FAILED" or self.expired:
            return {"sessionUri": self.uri, "sessionStatus": "FAILED"}
        return {
            "authorizationUrl": self.authorization_url,
            "sessionUri": self.uri,
            "sessionStatus": "IN_PROGRESS",
        }


def provider_endpoints(config: dict[str, Any]) -> dict[str, str]:
    """The provider's authorization and token endpoints, from discovery or its config."""
    discovery = config.get("oauthDiscovery", {})
    try:
        if "discoveryUrl" in discovery:
            answer = requests.get(discovery["discoveryUrl"], timeout=10)
            answer.raise_for_status()
            document = answer.json()
            return {
                "authorization": document["authorization_endpoint"],
                "token": document["token_endpoint"],
            }
        metadata = discovery.get("authorizationServerMetadata", config)
        return {
            "authorization": metadata["authorizationEndpoint"],
            "token": metadata["tokenEndpoint"],
        }
    except (requests.RequestException, ValueError, KeyError) as error:
        raise ValidationException(
            f"The credential provider's authorization server is not usable: {error!r}"
        ) from error


def _custom_parameters(parameters: dict[str, str] | None) -> dict[str, str]:
    """The caller's extra authorization parameters, refused if one would replace ours."""
    parameters = dict(parameters or {})
    if reserved := sorted(RESERVED_PARAMETERS & parameters.keys()):
        raise ValidationException(
            f"customParameters must not set {', '.join(reserved)}: AgentCore Identity sets "
            "these parameters of the authorization request itself."
        )
    return parameters


def _auth_method(config: dict[str, Any]) -> str:
    return config.get("clientAuthenticationMethod", "CLIENT_SECRET_BASIC").lower()


class TokenVault:
    """One per account and region; sessions and tokens guarded by one lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.tokens: dict[tuple, VaultedToken] = {}
        self.sessions: dict[str, AuthorizationSession] = {}
        self.m2m: dict[tuple, VaultedToken] = {}

    def user_federation(
        self,
        owner: WorkloadToken,
        provider_name: str,
        scopes: list[str],
        allowed_return_urls: list[str],
        session_uri: str | None,
        return_url: str | None,
        force: bool,
        custom_state: str | None,
        custom_parameters: dict[str, str] | None,
    ) -> dict[str, str]:
        if owner.user is None:
            raise ValidationException(
                "USER_FEDERATION needs a workload access token for a user "
                "(GetWorkloadAccessTokenForJWT or ForUserId)."
            )
        custom_parameters = _custom_parameters(custom_parameters)
        key = (owner.workload, owner.user, provider_name, tuple(sorted(scopes)))
        with self.lock:
            self._drop_expired()
            if session_uri is not None:
                session = self.sessions.get(session_uri)
                if session is None or session.key != key:
                    raise ValidationException(
                        f"{session_uri} is not a session of this caller, or it has expired."
                    )
                vaulted = self.tokens.get(key)
                if session.status == "COMPLETE" and vaulted and vaulted.valid:
                    return {"accessToken": vaulted.access_token}
                return session.answer()
            vaulted = self.tokens.get(key)
            if vaulted and vaulted.valid and not force:
                return {"accessToken": vaulted.access_token}
            if not allowed_return_urls:  # AWS's words, seen in awslabs/agentcore-samples#528
                raise ValidationException(
                    "You must register and use at least one ResourceOauth2ReturnUrl on your "
                    "workload identity to use this flow"
                )
            if not return_url:
                raise ValidationException(
                    "You must provide a ResourceOauth2ReturnUrl to proceed with this flow"
                )
            if return_url not in allowed_return_urls:
                raise ValidationException(
                    f"ResourceOauth2ReturnUrl {return_url} is not one of the allowed return URLs "
                    f"of workload identity {owner.workload}."
                )
            session = AuthorizationSession(
                uri=REQUEST_URI_PREFIX + secrets.token_urlsafe(24),
                key=key,
                token_owner=owner,
                scopes=tuple(scopes),
                return_url=return_url,
                custom_state=custom_state,
                custom_parameters=custom_parameters,
            )
            self.sessions[session.uri] = session
        return session.answer()

    def _drop_expired(self) -> None:
        """Forget abandoned sessions, so they do not pile up.

        Called with the lock held, by every lookup. An expired session answers FAILED to a
        poll (the SDK's poller stops on it) for one lifetime more; then it is as unknown as
        one that never was."""
        for uri in [uri for uri, session in self.sessions.items() if session.forgotten]:
            del self.sessions[uri]

    def session_for_browser(self, uri: str) -> AuthorizationSession | None:
        with self.lock:
            self._drop_expired()
            session = self.sessions.get(uri)
            return session if session and not session.expired else None

    def session_by_state(self, state: str) -> AuthorizationSession | None:
        with self.lock:
            self._drop_expired()
            return next((s for s in self.sessions.values() if s.state == state), None)

    def authorize_redirect(
        self, session: AuthorizationSession, config: dict[str, Any], callback_url: str
    ) -> str:
        """Where to send the browser: the provider's sign-in, with PKCE and our state."""
        client = OAuth2Session(
            config.get("clientId"),
            scope=" ".join(session.scopes),
            redirect_uri=callback_url,
            code_challenge_method="S256",
        )
        url, _ = client.create_authorization_url(
            provider_endpoints(config)["authorization"],
            state=session.state,
            code_verifier=session.code_verifier,
            **session.custom_parameters,
        )
        TRACES.alias(session.state, session.trace)  # the provider's pages carry it
        return url

    def exchange_code(
        self,
        session: AuthorizationSession,
        config: dict[str, Any],
        client_secret: str,
        callback_url: str,
        code: str,
    ) -> str:
        """Trade the code for the user's tokens; return where the browser goes next."""
        client = OAuth2Session(
            config.get("clientId"),
            client_secret,
            redirect_uri=callback_url,
            token_endpoint_auth_method=_auth_method(config),
        )
        label = "token endpoint: code and PKCE verifier for the user's tokens"
        with TRACES.hop(session.trace, IDENTITY, COGNITO, label):
            try:
                session.token = client.fetch_token(
                    provider_endpoints(config)["token"],
                    code=code,
                    code_verifier=session.code_verifier,
                )
                session.status = "AUTHORIZED"
            except Exception as error:  # the provider said no: the flow is over
                session.status = "FAILED"
                raise ValidationException(f"The provider refused the code: {error}") from error
        return self.return_url(session)

    def return_url(self, session: AuthorizationSession) -> str:
        """The agent's return URL with ``session_id`` (and custom state), its own query kept."""
        parts = urlsplit(session.return_url)
        query = [*parse_qsl(parts.query), ("session_id", session.uri)]
        if session.custom_state is not None:
            query.append(("state", session.custom_state))
        return urlunsplit(parts._replace(query=urlencode(query)))

    def complete(self, session_uri: str, user_identifier: dict[str, str], token_sha256) -> None:
        """Bind the session to its user and vault the token, or refuse as AWS does."""
        with self.lock:
            self._drop_expired()
            session = self.sessions.get(session_uri)
            if session is None or session.expired or session.status != "AUTHORIZED":
                raise AccessDeniedException(EXPIRED_SESSION)
            owner = session.token_owner
            if "userId" in user_identifier:
                same_user = owner.user_id is not None and owner.user_id == user_identifier["userId"]
            else:
                same_user = owner.user_token_sha256 == token_sha256(user_identifier["userToken"])
            if not same_user:
                raise AccessDeniedException(EXPIRED_SESSION)
            expires_in = int(session.token.get("expires_in", 3600))
            with TRACES.hop(session.trace, IDENTITY, IDENTITY, "token vaulted for (agent, you)"):
                self.tokens[session.key] = VaultedToken(
                    session.token["access_token"], time.time() + expires_in
                )
            session.status = "COMPLETE"

    def machine_token(
        self, provider_name: str, config: dict[str, Any], client_secret: str, scopes: list[str]
    ) -> str:
        """M2M: client credentials at the provider, cached until shortly before expiry."""
        key = (provider_name, tuple(sorted(scopes)))
        cached = self.m2m.get(key)
        if cached and cached.valid:
            return cached.access_token
        client = OAuth2Session(
            config.get("clientId"),
            client_secret,
            scope=" ".join(scopes),
            token_endpoint_auth_method=_auth_method(config),
        )
        try:
            token = client.fetch_token(
                provider_endpoints(config)["token"], grant_type="client_credentials"
            )
        except Exception as error:  # AWS keeps the provider's answer to itself
            log.warning("M2M: %s refused client credentials: %s", provider_name, error)
            raise ValidationException(CLIENT_CREDENTIALS_REFUSED) from error
        self.m2m[key] = VaultedToken(
            token["access_token"], time.time() + int(token.get("expires_in", 3600))
        )
        return token["access_token"]
