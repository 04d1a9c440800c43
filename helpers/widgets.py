"""The authorization panel: what the learner clicks between the first and second call.

Like huggingface_hub's ``notebook_login()``: one small self-contained panel that does
not block the kernel and says what happened.
"""

import html
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
import requests
from IPython.display import display

from helpers.backend import Backend
from helpers.cognito import Pool
from helpers.consent import SessionBinding, complete, sign_in_headlessly
from helpers.display import Note
from helpers.errors import WorkshopError

WAITING = "⏳ Waiting for you to sign in at the external service and consent…"


def authorization_panel(
    backend: Backend,
    authorization_url: str,
    binding: SessionBinding,
    reinvoke: Callable[[], Any],
) -> widgets.VBox:
    """A link to consent, its status, a re-invoke button and a paste box (remote Jupyter)."""
    link = widgets.HTML(
        f'<a href="{html.escape(authorization_url)}" target="_blank" rel="noopener" '
        'style="font-size:1.1em">🔑 Open the external service\'s sign-in page</a>'
    )
    status = widgets.HTML(WAITING)
    again = widgets.Button(description="I've authorized — invoke again", button_style="primary")
    again.layout.width = "auto"
    pasted = widgets.Text(
        placeholder="Browser could not reach this kernel? Paste the address it ended on here",
        layout=widgets.Layout(width="32em"),
    )
    bind = widgets.Button(description="Bind this session")
    answer = widgets.Output()

    def report(session: str | None, error: str | None) -> None:
        status.value = (
            "✅ Connected: AgentCore Identity holds your token. Invoke again."
            if session
            else f"❌ {html.escape(error or '')}"
        )

    def on_again(_: Any) -> None:
        with answer:
            answer.clear_output()
            try:
                display(reinvoke())
            except WorkshopError as error:
                print(error)

    def on_bind(_: Any) -> None:
        try:
            report(complete(backend, pasted.value.strip(), binding.bearer_token), None)
        except WorkshopError as error:
            report(None, str(error))

    binding.on_result = report
    again.on_click(on_again)
    bind.on_click(on_bind)
    return widgets.VBox([link, status, again, widgets.HBox([pasted, bind]), answer])


def consent_step(
    backend: Backend,
    authorization_url: str | None,
    binding: SessionBinding,
    reinvoke: Callable[[], Any],
    user: Pool,
    interactive: bool,
) -> Any:
    """Notebook 07's consent, whichever case it meets; the result displays itself.

    No link: the vault already holds the token. A person (``interactive``): the panel.
    papermill: the same sign-in done in code, as ``user``.
    """
    if authorization_url is None:
        return Note(
            "Already connected: the token vault still holds your token from an earlier run."
        )
    if interactive:
        display(Note(f"Sign in as: {user.username}"))
        return authorization_panel(backend, authorization_url, binding, reinvoke)
    # The last hop, to this kernel's page, is left to the page: it records its own visits.
    trip = sign_in_headlessly(authorization_url, user, stop_at=binding.url, calls=backend.calls)
    try:
        requests.get(trip.final_url, timeout=60)
    except requests.RequestException as error:
        raise WorkshopError(f"The session-binding page did not answer: {error}") from error
    binding.wait(timeout=0)  # raises if the page could not bind the session
    return Note(f"Signed in as {user.username}: {trip.requests} requests, {trip.seconds:.2f} s")
