"""Consent and session binding: what happens between the first and the second invocation.

After the user consents, AgentCore Identity sends their browser to the agent's return
URL with a ``session_id``. Whatever serves that URL must call CompleteResourceTokenAuth
with the *same* user's bearer token: proof that the person who consented is the person
who called the agent. Only then does the token enter the vault. This module is that
page (a small server in the notebook's kernel), the fallback when the browser cannot
reach the kernel (paste the URL), and a headless sign-in for papermill runs.
"""

import html
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import requests
from bs4 import BeautifulSoup

from helpers.backend import Backend
from helpers.calls import CallLog, http_call
from helpers.cognito import Pool
from helpers.errors import WorkshopError, explain

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>{title}</title></head>
<body style="font-family:sans-serif;max-width:34em;margin:4em auto"><h2>{title}</h2>
<p>{message}</p></body></html>"""


def authorization_url_in(answer: dict[str, Any]) -> str | None:
    """The authorization URL the agent's answer carries, if the user must consent first.

    Read from the field the agent fills in from ``on_auth_url``, not from its ``response``:
    a model words that text its own way, and may follow the link with a period or ``**``,
    or escape it for markdown.
    """
    return answer.get("authorization_url")


def token_obtained(answer: dict[str, Any]) -> bool:
    """Did the agent's tool get the user's token in this request (its field, not its words)?"""
    return bool(answer.get("token_obtained"))


def session_in(redirected_url: str) -> str | None:
    """The authorization session the return URL names (its ``session_id``)."""
    return parse_qs(urlsplit(redirected_url).query).get("session_id", [None])[0]


def complete(backend: Backend, redirected_url: str, bearer_token: str) -> str:
    """Bind the session named in ``redirected_url`` to the user of ``bearer_token``."""
    session = session_in(redirected_url)
    if session is None:
        raise WorkshopError(f"{redirected_url} has no session_id: paste the whole address.")
    with explain("Binding the authorization session to you (CompleteResourceTokenAuth)"):
        backend.client("bedrock-agentcore").complete_resource_token_auth(
            sessionUri=session, userIdentifier={"userToken": bearer_token}
        )
    return session


@dataclass
class SessionBinding:
    """The return-URL page, served from the kernel while the learner consents."""

    backend: Backend
    url: str
    bearer_token: str
    on_result: Callable[[str | None, str | None], None] | None = None
    completed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    _done: threading.Event = field(default_factory=threading.Event)
    _server: ThreadingHTTPServer | None = None

    def start(self) -> "SessionBinding":
        parts = urlsplit(self.url)
        binding = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if urlsplit(self.path).path != parts.path:
                    self.send_error(404)
                    return
                status, page = binding.handle(urljoin(binding.url, self.path))
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(page.encode())

            def log_message(self, *args) -> None:
                pass

        try:
            self._server = ThreadingHTTPServer((parts.hostname, parts.port), Handler)
        except OSError as error:
            raise WorkshopError(
                f"Cannot serve the session-binding page at {self.url}: {error}. Stop what uses "
                "that port, or restart the kernel that served it before."
            ) from error
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def handle(self, redirected_url: str) -> tuple[int, str]:
        clock = time.perf_counter()
        try:
            session = complete(self.backend, redirected_url, self.bearer_token)
        except WorkshopError as error:
            self.errors.append(str(error))
            self._report(None, str(error))
            status, page = 400, PAGE.format(title="Not connected", message=html.escape(str(error)))
        else:
            self.completed.append(session)
            self._report(session, None)
            message = "The agent may now use the external service for you. You can close this tab."
            status, page = 200, PAGE.format(title="You're connected", message=message)
        # The browser's visit, as the notebook served it: recorded here in every case.
        seconds = time.perf_counter() - clock
        self.backend.calls.record(http_call("browser", "GET", redirected_url, status, seconds))
        return status, page

    def _report(self, session: str | None, error: str | None) -> None:
        self._done.set()
        if self.on_result is not None:
            self.on_result(session, error)

    def wait(self, timeout: float = 600, between: Callable[[], None] | None = None) -> str:
        """The bound session id, once the browser came back (or an explanation).

        ``between`` runs every tenth of a second meanwhile (a notebook answers clicks).
        """
        deadline = time.monotonic() + timeout
        while not self._done.wait(min(0.1, max(0.0, deadline - time.monotonic()))):
            if time.monotonic() >= deadline:
                raise WorkshopError(f"Nobody came back to {self.url} within {timeout:.0f} s.")
            if between is not None:
                between()
        if self.errors:
            raise WorkshopError(self.errors[-1])
        return self.completed[-1]

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


_running: dict[str, SessionBinding] = {}


def serve_session_binding(backend: Backend, url: str, bearer_token: str) -> SessionBinding:
    """Start the page at ``url``, replacing one this kernel started before (a cell re-run)."""
    if url in _running:
        _running.pop(url).stop()
    _running[url] = SessionBinding(backend, url, bearer_token).start()
    return _running[url]


@dataclass
class ConsentTrip:
    """What a headless consent did: every request, and where the browser ended."""

    requests: int
    seconds: float
    final_url: str


def _form(page: str) -> tuple[str, dict[str, str]]:
    """The classic hosted UI's sign-in form: its action and hidden fields."""
    soup = BeautifulSoup(page, "html.parser")
    form = soup.find("form", attrs={"name": "cognitoSignInForm"}) or soup.find("form")
    if form is None or not form.get("action"):
        raise WorkshopError("The sign-in page has no form: is this the classic hosted UI?")
    hidden = {
        field["name"]: field.get("value", "")
        for field in form.find_all("input", attrs={"type": "hidden"})
        if field.get("name")
    }
    return form["action"], hidden


def sign_in_headlessly(
    authorization_url: str,
    user: Pool,
    stop_at: str | None = None,
    max_hops: int = 10,
    calls: CallLog | None = None,
) -> ConsentTrip:
    """Do in code what the learner does in a browser: open the link, sign in, follow.

    Written to the form Cognito's classic hosted UI serves (``_csrf``, ``username``,
    ``password``, ``cognitoAsfData``). The last redirect lands on the return URL, whose
    page (the session binding) must be running, unless ``stop_at`` names that URL: then
    the trip ends there and ``final_url`` is the address to bind with `complete`.
    """
    started = time.monotonic()
    browser = requests.Session()
    if calls is not None:
        browser.hooks["response"].append(calls.hook("browser"))
    count = 0

    def follow(answer: requests.Response) -> requests.Response | str:
        nonlocal count
        for _ in range(max_hops):
            if answer.status_code not in (301, 302, 303, 307, 308):
                return answer
            target = urljoin(answer.url, answer.headers["Location"])
            if stop_at is not None and target.startswith(stop_at):
                return target
            answer = browser.get(target, allow_redirects=False)
            count += 1
        raise WorkshopError("Too many redirects during sign-in.")

    try:
        page = follow(browser.get(authorization_url, allow_redirects=False))
        count += 1
        if isinstance(page, str) or page.status_code != 200:
            raise WorkshopError(f"The authorization link led to no sign-in page: {page}")
        action, fields = _form(page.text)
        fields |= {"username": user.username, "password": user.password, "cognitoAsfData": ""}
        answer = browser.post(urljoin(page.url, action), data=fields, allow_redirects=False)
        count += 1
        if answer.status_code == 200 and "Incorrect username or password" in answer.text:
            raise WorkshopError(f"The hosted UI refused {user.username}'s password.")
        final = follow(answer)
    except requests.RequestException as error:
        raise WorkshopError(f"The sign-in could not be completed: {error}") from error
    if isinstance(final, str):
        return ConsentTrip(count, time.monotonic() - started, final)
    if final.status_code != 200:
        raise WorkshopError(f"The sign-in ended at {final.url} with HTTP {final.status_code}.")
    return ConsentTrip(count, time.monotonic() - started, final.url)
