"""The OAuth 2.0 grants of the hosted UI, as authlib models them, over moto's pools.

authlib does the protocol (RFC 6749 authorization code and refresh token, RFC 7636 PKCE,
client credentials, client authentication, error responses); this module keeps what
Cognito keeps: its clients and users are moto's, its PKCE is S256 only, a refresh never
widens the scope granted, and its tokens are shaped and signed as Cognito's (see `tokens`).

The numbers are Cognito's: an authorization code is redeemable once, for five minutes
(``CODE_LIFETIME``; Amazon Cognito developer guide, authorize and token endpoints), and
an access token lives for an app client's AccessTokenValidity, 60 minutes by default
(``TOKEN_LIFETIME``; CreateUserPoolClient in the Cognito API reference). Tokens for a
user are minted by moto's ``create_jwt``, whose own default is the same hour.
"""

import hmac
import threading
import time
import uuid
from dataclasses import dataclass
from weakref import WeakKeyDictionary

from authlib.oauth2.rfc6749 import ClientMixin, grants, scope_to_list
from authlib.oauth2.rfc6749.errors import InvalidRequestError, InvalidScopeError
from authlib.oauth2.rfc7636 import CodeChallenge
from joserfc import jwt
from moto.cognitoidp.models import CognitoIdpUserPool, cognitoidp_backends

from emulator.backends import every_backend
from emulator.cognito.discovery import issuer

CODE_LIFETIME = 300  # seconds: see the module's docstring for where each number comes from
TOKEN_LIFETIME = 3600
# What moto's InitiateAuth grants: the scope of a refresh token the hosted UI did not issue.
SIGN_IN_SCOPE = "aws.cognito.signin.user.admin"


def pool_for(domain: str) -> CognitoIdpUserPool | None:
    for backend in every_backend(cognitoidp_backends):
        found = backend.user_pool_domains.get(domain)
        if found is not None:
            return backend.user_pools.get(found.user_pool_id)
    return None


class Client(ClientMixin):
    """A moto app client, as authlib needs to see it."""

    def __init__(self, pool: CognitoIdpUserPool, client):
        self.pool, self.client = pool, client
        self.config = client.extended_config

    @property
    def flows(self) -> list[str]:
        if not self.config.get("AllowedOAuthFlowsUserPoolClient"):
            return []
        return self.config.get("AllowedOAuthFlows", [])

    def get_client_id(self) -> str:
        return self.client.id

    def get_default_redirect_uri(self) -> str | None:
        return self.config.get("DefaultRedirectURI") or next(
            iter(self.config.get("CallbackURLs", [])), None
        )

    def get_allowed_scope(self, scope: str) -> str:
        allowed = self.config.get("AllowedOAuthScopes", [])
        if not scope:
            return " ".join(allowed)
        return " ".join(s for s in scope_to_list(scope) if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.config.get("CallbackURLs", [])

    def check_client_secret(self, client_secret: str) -> bool:
        return self.client.generate_secret and hmac.compare_digest(
            client_secret.encode(), self.client.secret.encode()
        )

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if endpoint != "token":
            return True
        if self.client.generate_secret:
            return method in ("client_secret_basic", "client_secret_post")
        return method == "none"

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and "code" in self.flows

    def check_grant_type(self, grant_type: str) -> bool:
        needed = {"authorization_code": "code", "client_credentials": "client_credentials"}
        return grant_type == "refresh_token" or needed.get(grant_type) in self.flows


@dataclass
class AuthorizationCode:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    username: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    expires: float

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope


_codes: dict[str, AuthorizationCode] = {}
_codes_lock = threading.Lock()

# The scope each refresh token was granted with, per pool: a refresh may narrow it, never
# widen it (RFC 6749 section 6). Kept beside moto's refresh tokens, and dropped with the pool.
_refresh_scopes: WeakKeyDictionary[CognitoIdpUserPool, dict[str, str]] = WeakKeyDictionary()
_refresh_scopes_lock = threading.Lock()


def _granted_scope(pool: CognitoIdpUserPool, refresh_token: str) -> str:
    with _refresh_scopes_lock:
        return _refresh_scopes.get(pool, {}).get(refresh_token, SIGN_IN_SCOPE)


def _record_granted_scope(pool: CognitoIdpUserPool, refresh_token: str, scope: str) -> None:
    with _refresh_scopes_lock:
        _refresh_scopes.setdefault(pool, {})[refresh_token] = scope


def _check_scope(grant) -> None:
    """Cognito refuses a scope the client is not allowed, rather than dropping it."""
    requested = scope_to_list(grant.request.payload.scope or "")
    allowed = grant.request.client.config.get("AllowedOAuthScopes", [])
    if not set(requested) <= set(allowed):
        raise InvalidScopeError()


class S256Challenge(CodeChallenge):
    """PKCE as Cognito has it: S256 only.

    RFC 7636 lets a server support ``plain``, and a challenge without a method means
    ``plain``; Cognito supports neither, so both are refused at the authorize endpoint.
    """

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        method = data.get("code_challenge_method")
        if (data.get("code_challenge") or method) and method != "S256":
            raise InvalidRequestError(
                f"Unsupported code_challenge_method {method!r}: only 'S256' is supported."
            )
        super().validate_code_challenge(grant, redirect_uri)


# Confidential clients authenticate at the token endpoint; public ones (no secret) cannot.
CLIENT_AUTH_METHODS = ("client_secret_basic", "client_secret_post", "none")


class CodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS

    def validate_requested_scope(self):
        _check_scope(self)

    def save_authorization_code(self, code, request):
        data = request.payload.data
        item = AuthorizationCode(
            code=code,
            client_id=request.client.get_client_id(),
            redirect_uri=request.payload.redirect_uri,
            scope=request.scope,
            username=request.user,
            nonce=data.get("nonce"),
            code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"),
            expires=time.time() + CODE_LIFETIME,
        )
        with _codes_lock:
            # Codes nobody redeems (a sign-in abandoned at the callback) go once expired.
            now = time.time()
            for expired in [key for key, held in _codes.items() if held.expires <= now]:
                del _codes[expired]
            _codes[code] = item

    def query_authorization_code(self, code, client):
        item = _codes.get(code)
        if item and item.client_id == client.get_client_id() and item.expires > time.time():
            return item
        return None

    def delete_authorization_code(self, authorization_code):
        with _codes_lock:  # single use: gone before the token is issued
            _codes.pop(authorization_code.code, None)

    def authenticate_user(self, authorization_code):
        # A user deleted or disabled since signing in gets no tokens (authlib: invalid_grant).
        user = self.request.client.pool._get_user(authorization_code.username)
        return authorization_code.username if user is not None and user.enabled else None


class RefreshGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = False  # Cognito keeps the refresh token

    def authenticate_refresh_token(self, refresh_token):
        pool = self.request.client.pool
        stored = pool.refresh_tokens.get(refresh_token)  # None once its user signed out
        if not stored:
            return None
        client_id, username = stored[0], stored[1]
        user = pool._get_user(username)  # as moto's create_jwt finds the user it signs for
        if user is None or not user.enabled:
            return None
        return _RefreshToken(client_id, username, _granted_scope(pool, refresh_token))

    def authenticate_user(self, refresh_token):
        return refresh_token.username

    def revoke_old_credential(self, refresh_token):
        pass


@dataclass
class _RefreshToken:
    client_id: str
    username: str
    scope: str

    def check_client(self, client) -> bool:
        return client.get_client_id() == self.client_id

    def get_scope(self) -> str:
        return self.scope


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    def validate_requested_scope(self):
        _check_scope(self)


def tokens(grant_type, client, user=None, scope=None, expires_in=None, include_refresh_token=True):
    """Cognito's token response: access token, and ID and refresh tokens for users."""
    pool: CognitoIdpUserPool = client.pool
    scope = scope or ""
    common = {"version": 2, "scope": scope, "jti": str(uuid.uuid4())}
    if user is None:  # client credentials: the client itself is the subject
        now = int(time.time())
        claims = {
            **common,
            "iss": issuer(pool.id),
            "sub": client.get_client_id(),
            "client_id": client.get_client_id(),
            "token_use": "access",
            "auth_time": now,
            "iat": now,
            "exp": now + TOKEN_LIFETIME,
        }
        header = {"alg": "RS256", "kid": pool.json_web_key.kid}
        access = jwt.encode(header, claims, pool.json_web_key)
        return {"access_token": access, "token_type": "Bearer", "expires_in": TOKEN_LIFETIME}
    refresh, origin = None, str(uuid.uuid4())
    if include_refresh_token:
        refresh, origin = pool.create_refresh_token(client.get_client_id(), user)
        _record_granted_scope(pool, refresh, scope)
    access, expires = pool.create_jwt(
        client.get_client_id(), user, "access", extra_data={**common, "origin_jti": origin}
    )
    pool.access_tokens[access] = (client.get_client_id(), user)
    token = {"access_token": access, "token_type": "Bearer", "expires_in": expires}
    if "openid" in scope_to_list(scope):
        token["id_token"] = pool.create_id_token(client.get_client_id(), user, origin)[0]
    if refresh:
        token["refresh_token"] = refresh
    return token
