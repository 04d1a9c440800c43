"""The Cognito hosted UI and OAuth 2.0 endpoints of pools with a domain (moto has none).

Lives at ``/_cognito/<domain>/`` on this server (on AWS: ``https://<domain>.auth.<region>
.amazoncognito.com/``). The protocol (authorization code with PKCE, refresh token, client
credentials, client authentication, error responses) is authlib's; this module supplies
what Cognito keeps: clients, users and keys from moto's pools, the classic login form,
and tokens shaped and signed as Cognito's.
"""

import hmac
import secrets
import threading
import time
import uuid
from dataclasses import dataclass

from authlib.common.encoding import to_unicode
from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import ClientMixin, grants, scope_to_list
from authlib.oauth2.rfc6749.errors import InvalidScopeError
from authlib.oauth2.rfc7636 import CodeChallenge
from flask import Flask, jsonify, make_response, redirect, render_template_string, request
from joserfc import jwt
from moto.cognitoidp.models import CognitoIdpUserPool, UserStatus, cognitoidp_backends

from emulator import cognito
from emulator.backends import every_backend

CODE_LIFETIME = 300  # seconds, as Cognito's authorization codes
TOKEN_LIFETIME = 3600
CSRF_COOKIE = "XSRF-TOKEN"

LOGIN_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Signin</title>
<style>body{font-family:sans-serif;max-width:22em;margin:4em auto}
input{width:100%;margin:.3em 0 1em} .error{color:#b00}</style></head>
<body><h2>Sign in with your username and password</h2>
<p class="note">Local backend: a stand-in for the Amazon Cognito hosted UI.</p>
{% if error %}<p id="loginErrorMessage" class="error">{{ error }}</p>{% endif %}
<form name="cognitoSignInForm" method="post" action="{{ action }}">
<input type="hidden" name="_csrf" value="{{ csrf }}">
<input type="hidden" name="cognitoAsfData" value="">
<label for="signInFormUsername">Username</label>
<input id="signInFormUsername" name="username" type="text" autocomplete="username" required>
<label for="signInFormPassword">Password</label>
<input id="signInFormPassword" name="password" type="password" autocomplete="current-password"
 required>
<input name="signInSubmitButton" type="submit" value="Sign in">
</form></body></html>"""


def _pool_for(domain: str) -> CognitoIdpUserPool | None:
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


def _check_scope(grant) -> None:
    """Cognito refuses a scope the client is not allowed, rather than dropping it."""
    requested = scope_to_list(grant.request.payload.scope or "")
    allowed = grant.request.client.config.get("AllowedOAuthScopes", [])
    if not set(requested) <= set(allowed):
        raise InvalidScopeError()


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
        return authorization_code.username


class RefreshGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = False  # Cognito keeps the refresh token

    def authenticate_refresh_token(self, refresh_token):
        stored = self.request.client.pool.refresh_tokens.get(refresh_token)
        if stored:
            return _RefreshToken(stored[0], stored[1], self.request.payload.scope or "")
        return None

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


def _tokens(grant_type, client, user=None, scope=None, expires_in=None, include_refresh_token=True):
    """Cognito's token response: access token, and ID and refresh tokens for users."""
    pool: CognitoIdpUserPool = client.pool
    scope = scope or ""
    common = {"version": 2, "scope": scope, "jti": str(uuid.uuid4())}
    if user is None:  # client credentials: the client itself is the subject
        now = int(time.time())
        claims = {
            **common,
            "iss": cognito.issuer(pool.id),
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


def _query_client(client_id: str) -> Client | None:
    pool = _pool_for(request.view_args["domain"])
    if pool is None or client_id not in pool.clients:
        return None
    return Client(pool, pool.clients[client_id])


app = Flask(__name__)
server = AuthorizationServer(app, query_client=_query_client, save_token=lambda token, req: None)
server.register_grant(CodeGrant, [CodeChallenge(required=False)])
server.register_grant(RefreshGrant)
server.register_grant(ClientCredentialsGrant)
server.register_token_generator("default", _tokens)
PREFIX = cognito.HOSTED_UI_PREFIX


def _unknown_domain(domain: str):
    return make_response(jsonify(error="invalid_request", error_description="unknown domain"), 404)


@app.get(f"{PREFIX}/<domain>/oauth2/authorize")
def authorize(domain: str):
    """Check the request as Cognito does, then show the sign-in page (same query string)."""
    if _pool_for(domain) is None:
        return _unknown_domain(domain)
    try:
        server.get_consent_grant(end_user=None)
    except OAuth2Error as error:
        return server.handle_error_response(None, error)
    query = to_unicode(request.query_string)
    return redirect(f"{PREFIX}/{domain}/login?{query}")


@app.route(f"{PREFIX}/<domain>/login", methods=["GET", "POST"])
def login(domain: str):
    pool = _pool_for(domain)
    if pool is None:
        return _unknown_domain(domain)
    try:
        grant = server.get_consent_grant(end_user=None)
    except OAuth2Error as error:
        return server.handle_error_response(None, error)
    error = None
    if request.method == "POST":
        expected = request.cookies.get(CSRF_COOKIE, "")
        if not expected or not hmac.compare_digest(expected, request.form.get("_csrf", "")):
            return make_response("Invalid CSRF token: reload the sign-in page.", 403)
        username = request.form.get("username", "")
        user = pool.users.get(username)
        password_ok = user is not None and hmac.compare_digest(
            (user.password or "").encode(), request.form.get("password", "").encode()
        )
        if password_ok and user.enabled and user.status == UserStatus.CONFIRMED:
            return server.create_authorization_response(grant_user=username, grant=grant)
        error = "Incorrect username or password."
    csrf = secrets.token_urlsafe(24)
    page = render_template_string(
        LOGIN_PAGE, error=error, csrf=csrf, action=request.full_path.rstrip("?")
    )
    response = make_response(page, 200)
    response.set_cookie(CSRF_COOKIE, csrf, httponly=True, samesite="Lax")
    return response


@app.post(f"{PREFIX}/<domain>/oauth2/token")
def token(domain: str):
    if _pool_for(domain) is None:
        return _unknown_domain(domain)
    return server.create_token_response()


@app.route(f"{PREFIX}/<domain>/oauth2/userInfo", methods=["GET", "POST"])
def user_info(domain: str):
    pool = _pool_for(domain)
    bearer = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    try:
        claims = cognito.verify_user_token(bearer)
    except ValueError as error:
        return make_response(jsonify(error="invalid_token", error_description=str(error)), 401)
    user = pool.users.get(claims.get("username")) if pool else None
    if user is None or claims.get("token_use") != "access":
        return make_response(jsonify(error="invalid_token"), 401)
    info = {"sub": user.id, "username": user.username}
    info |= {attr["Name"]: attr["Value"] for attr in user.attributes if attr["Name"] != "sub"}
    return jsonify(info)
