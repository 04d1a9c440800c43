"""The two pages of the 3-legged flow a browser visits at AgentCore Identity.

``/identities/oauth2/authorize?request_uri=…`` (the authorization URL the agent hands
the user) sends the browser to the provider; the provider's callback
(``/identities/oauth2/callback/<id>``) exchanges the code and sends the browser on to
the agent's return URL. Neither request is signed, so the session names the backend.
"""

import html

from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from emulator import site
from emulator.backends import every_backend
from emulator.exceptions import ValidationException
from emulator.identity.models import identity_backends
from emulator.trace import mark

AUTHORIZE_PATH = "/identities/oauth2/authorize"
CALLBACK_PREFIX = "/identities/oauth2/callback/"


def _page(status: int, title: str, message: str) -> Response:
    body = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"</head><body style='font-family:sans-serif;max-width:34em;margin:4em auto'>"
        f"<h2>{html.escape(title)}</h2><p>{html.escape(message)}</p></body></html>"
    )
    return Response(body, status=status, content_type="text/html; charset=utf-8")


def _authorize(request: Request) -> Response:
    uri = request.args.get("request_uri", "")
    for backend in every_backend(identity_backends):
        session = backend.vault.session_for_browser(uri)
        if session is not None and session.status == "IN_PROGRESS":
            provider = backend.get_oauth2_credential_provider(session.key[2])
            mark(request.environ, session.trace, "open the authorization URL, on to the provider")
            try:
                url = backend.vault.authorize_redirect(
                    session, provider.config, provider.callback_url
                )
            except ValidationException as error:
                return _page(502, "The provider cannot be reached", str(error))
            return redirect(url)
    return _page(
        400,
        "This authorization link has expired",
        "It is unknown, more than ten minutes old, or already used. Ask the agent again.",
    )


def _callback(request: Request) -> Response:
    callback_url = site.base_url + request.path
    state = request.args.get("state", "")
    for backend in every_backend(identity_backends):
        provider = backend.provider_by_callback(callback_url)
        session = backend.vault.session_by_state(state) if provider else None
        if session is None or session.key[2] != provider.name:
            continue
        mark(request.environ, session.trace, "provider callback, with the code")
        if session.status != "IN_PROGRESS" or session.expired:
            return _page(400, "Already used", "This sign-in was already completed or expired.")
        if "error" in request.args:
            session.status = "FAILED"
            reason = request.args.get("error_description") or request.args["error"]
            return _page(400, "Authorization was not granted", reason)
        try:
            next_url = backend.vault.exchange_code(
                session,
                provider.config,
                backend.client_secret(provider),
                provider.callback_url,
                request.args.get("code", ""),
            )
        except ValidationException as error:
            return _page(400, "Authorization failed", str(error))
        return redirect(next_url)
    return _page(400, "Unknown sign-in", "The state of this callback matches no authorization.")


def app(environ: dict, start_response):
    request = Request(environ)
    if request.path == AUTHORIZE_PATH:
        response = _authorize(request)
    elif request.path.startswith(CALLBACK_PREFIX):
        response = _callback(request)
    else:
        response = _page(404, "Not found", request.path)
    return response(environ, start_response)
