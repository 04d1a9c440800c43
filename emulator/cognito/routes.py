"""The Cognito hosted UI and OAuth 2.0 endpoints of pools with a domain (moto has none).

Lives at ``/_cognito/<domain>/`` on this server (on AWS: ``https://<domain>.auth.<region>
.amazoncognito.com/``): authorize, the classic sign-in page, token and userInfo. The
grants are in `grants`, the page in `template`.
"""

import hmac
import secrets

from authlib.common.encoding import to_unicode
from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2 import OAuth2Error
from flask import Flask, jsonify, make_response, redirect, render_template_string, request
from moto.cognitoidp.models import UserStatus

from emulator.cognito.discovery import issuer, verify_user_token
from emulator.cognito.grants import (
    Client,
    ClientCredentialsGrant,
    CodeGrant,
    RefreshGrant,
    S256Challenge,
    pool_for,
    tokens,
)
from emulator.cognito.template import LOGIN_PAGE
from emulator.endpoints import HOSTED_UI_PREFIX
from emulator.trace import TRACES, mark

CSRF_COOKIE = "XSRF-TOKEN"


def _query_client(client_id: str) -> Client | None:
    pool = pool_for(request.view_args["domain"])
    if pool is None or client_id not in pool.clients:
        return None
    return Client(pool, pool.clients[client_id])


app = Flask(__name__)
app.config["PROPAGATE_EXCEPTIONS"] = True  # to emulator.server, which logs them
server = AuthorizationServer(app, query_client=_query_client, save_token=lambda token, req: None)
server.register_grant(CodeGrant, [S256Challenge(required=False)])
server.register_grant(RefreshGrant)
server.register_grant(ClientCredentialsGrant)
server.register_token_generator("default", tokens)
PREFIX = HOSTED_UI_PREFIX


def _mark(label: str) -> None:
    """Count this page as a hop of the consent flow its OAuth state belongs to, if any."""
    mark(request.environ, TRACES.session_of(request.args.get("state")), label)


def _unknown_domain(domain: str):
    return make_response(jsonify(error="invalid_request", error_description="unknown domain"), 404)


@app.get(f"{PREFIX}/<domain>/oauth2/authorize")
def authorize(domain: str):
    """Check the request as Cognito does, then show the sign-in page (same query string)."""
    if pool_for(domain) is None:
        return _unknown_domain(domain)
    _mark("authorize, on to the sign-in page")
    try:
        server.get_consent_grant(end_user=None)
    except OAuth2Error as error:
        return server.handle_error_response(None, error)
    query = to_unicode(request.query_string)
    return redirect(f"{PREFIX}/{domain}/login?{query}")


@app.route(f"{PREFIX}/<domain>/login", methods=["GET", "POST"])
def login(domain: str):
    pool = pool_for(domain)
    if pool is None:
        return _unknown_domain(domain)
    try:
        grant = server.get_consent_grant(end_user=None)
    except OAuth2Error as error:
        return server.handle_error_response(None, error)
    _mark("sign in (username, password)" if request.method == "POST" else "sign-in page")
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
    if pool_for(domain) is None:
        return _unknown_domain(domain)
    return server.create_token_response()


@app.route(f"{PREFIX}/<domain>/oauth2/userInfo", methods=["GET", "POST"])
def user_info(domain: str):
    """The claims of the user the access token names, in the pool of this domain only.

    A token verifies against the pool that issued it, which need not be this domain's:
    a username alone would name another pool's user, so the user is the one whose
    ``sub`` the token carries, in this pool, and a token of another pool is refused.
    """
    pool = pool_for(domain)
    if pool is None:
        return _unknown_domain(domain)
    bearer = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    try:
        claims = verify_user_token(bearer)
    except ValueError as error:
        return make_response(jsonify(error="invalid_token", error_description=str(error)), 401)
    if claims.get("iss") != issuer(pool.id) or claims.get("token_use") != "access":
        return make_response(
            jsonify(error="invalid_token", error_description="not an access token of this pool"),
            401,
        )
    sub = claims.get("sub")
    user = next((found for found in pool.users.values() if found.id == sub), None)
    if user is None or not user.enabled:
        return make_response(jsonify(error="invalid_token"), 401)
    info = {"sub": user.id, "username": user.username}
    info |= {attr["Name"]: attr["Value"] for attr in user.attributes if attr["Name"] != "sub"}
    return jsonify(info)
