"""The authorization panel: what the learner uses between the first and second call.

Like huggingface_hub's ``notebook_login()``: one small self-contained panel that says
what happened. Two parts: the sign-in card is plain HTML, so a reloaded or reopened
notebook still shows the link and what to do; the controls are widgets, and stay
responsive while a Run All waits for consent (jupyter-ui-poll handles their clicks in
the middle of the waiting cell).
"""

import html
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import ipywidgets as widgets
import requests
from IPython import get_ipython
from IPython.display import HTML, display
from jupyter_ui_poll import ui_events

from helpers.backend import Backend
from helpers.cognito import Pool
from helpers.consent import (
    SessionBinding,
    authorization_url_in,
    complete,
    sign_in_headlessly,
    token_obtained,
)
from helpers.display import Note
from helpers.errors import WorkshopError
from helpers.state import ENV_FILE

WAITING = "⏳ Waiting for you to sign in at the external service…"
TOKEN_USED = "✅ The agent used your token: AgentCore Identity handed it over."
STILL_ASKS = "🔐 The agent still asks for your consent: open the link and sign in first."
HIDDEN = "(hidden)"


def sign_in_card(
    authorization_url: str,
    user: Pool,
    service: str = "external service",
    env_variable: str | None = "IDENTITY_PASSWORD",
) -> HTML:
    """The link and what to do, as plain HTML: it survives a reload and a reopen."""
    also = (
        f", and it is <code>{env_variable}</code> in <code>{ENV_FILE}</code> at the top of "
        "the repository"
        if env_variable
        else ""
    )
    return HTML(
        f"""<div style="border:1px solid #ccc;border-radius:6px;padding:0.6em 1em">
<p><a href="{html.escape(authorization_url)}" target="_blank" rel="noopener"
style="font-size:1.1em">🔑 Open the {service}'s sign-in page</a></p>
<p>Sign in as <b>{html.escape(user.username)}</b>, your user at the {service}. Its password
is behind <i>Show password</i> below{also}. Cognito shows no separate consent screen:
<b>signing in is the consent</b>.</p>
<p>Your browser then lands on the session-binding page (<i>You're connected</i>). Come back
here: the status below changes, and <i>Invoke again</i> calls the agent on the same
session.</p></div>"""
    )


def authorization_panel(
    backend: Backend, binding: SessionBinding, reinvoke: Callable[[], Any], user: Pool
) -> widgets.VBox:
    """Password reveal, status, a re-invoke button and a paste box (remote Jupyter).

    The password is put into the page only when asked for, and taken out again: the
    notebook saves what a widget showed when it was displayed, which is never it.
    """
    reveal = widgets.ToggleButton(description="Show password", icon="eye")
    password = widgets.Text(value=HIDDEN, disabled=True, layout=widgets.Layout(width="14em"))
    status = widgets.HTML(WAITING)
    again = widgets.Button(description="Invoke again (same session)", button_style="primary")
    again.layout.width = "auto"
    pasted = widgets.Text(
        placeholder="Browser could not reach this kernel? Paste the address it ended on here",
        layout=widgets.Layout(width="32em"),
    )
    bind = widgets.Button(description="Bind this session")
    answer = widgets.Output()

    def on_reveal(change: dict) -> None:
        password.disabled = not change["new"]  # selectable, to copy, only while shown
        password.value = user.password if change["new"] else HIDDEN
        reveal.description = "Hide password" if change["new"] else "Show password"

    def report(session: str | None, error: str | None) -> None:
        status.value = (
            "✅ Connected: AgentCore Identity holds your token. Invoke again."
            if session
            else f"❌ {html.escape(error or '')}"
        )

    def on_again(_: Any) -> None:
        """The model's words below, for you; the status from the answer's fields."""
        with answer:
            answer.clear_output()
            try:
                reply = reinvoke()
            except WorkshopError as error:
                print(error)
                return
            print(reply["response"])
        if token_obtained(reply):
            status.value = TOKEN_USED
        elif authorization_url_in(reply):
            status.value = STILL_ASKS

    def on_bind(_: Any) -> None:
        try:
            report(complete(backend, pasted.value.strip(), binding.bearer_token), None)
        except WorkshopError as error:
            report(None, str(error))

    binding.on_result = report
    reveal.observe(on_reveal, names="value")
    again.on_click(on_again)
    bind.on_click(on_bind)
    return widgets.VBox(
        [
            widgets.HBox([widgets.Label(f"{user.username}:"), password, reveal]),
            status,
            again,
            widgets.HBox([pasted, bind]),
            answer,
        ]
    )


def consent_step(
    backend: Backend,
    authorization_url: str | None,
    binding: SessionBinding,
    reinvoke: Callable[[], Any],
    user: Pool,
    interactive: bool,
    service: str = "external service",
    env_variable: str | None = "IDENTITY_PASSWORD",
) -> Any:
    """Notebook 07's consent, whichever case it meets; the result displays itself.

    No link: the vault already holds the token. A person (``interactive``): the card
    and the panel. papermill: the same sign-in done in code, as ``user``.
    """
    if authorization_url is None:
        return Note(
            f"Already connected: the token vault still holds your {service} token from an "
            "earlier run."
        )
    if interactive:
        display(sign_in_card(authorization_url, user, service, env_variable))
        return authorization_panel(backend, binding, reinvoke, user)
    # The last hop, to this kernel's page, is left to the page: it records its own visits.
    trip = sign_in_headlessly(authorization_url, user, stop_at=binding.url, calls=backend.calls)
    try:
        requests.get(trip.final_url, timeout=60)
    except requests.RequestException as error:
        raise WorkshopError(f"The session-binding page did not answer: {error}") from error
    binding.wait(timeout=0)  # raises if the page could not bind the session
    return Note(f"Signed in as {user.username}: {trip.requests} requests, {trip.seconds:.2f} s")


def consent_and_wait(
    backend: Backend,
    answer: dict[str, Any],
    binding: SessionBinding,
    reinvoke: Callable[[], Any],
    user: Pool,
    interactive: bool,
    service: str,
) -> Any:
    """`consent_step` and `wait_for_consent` in one cell, for a notebook with several consents."""
    link = authorization_url_in(answer)
    shown = consent_step(backend, link, binding, reinvoke, user, interactive, service, None)
    if link is None:
        return shown
    display(shown)
    wait_for_consent(binding, timeout=600 if interactive else 60)
    return Note(f"✅ You consented at the {service}, and the session is bound to you.")


def wait_for_consent(binding: SessionBinding, timeout: float) -> str:
    """The bound session; meanwhile the panel's buttons answer, though this cell runs.

    Outside a kernel (a script, a test) there are no clicks to answer: a plain wait.
    """
    kernel = getattr(get_ipython(), "kernel", None)
    if kernel is None:
        return binding.wait(timeout)
    with _queue_of_its_own(kernel), ui_events() as poll:
        return binding.wait(timeout, between=lambda: poll(10))


@contextmanager
def _queue_of_its_own(kernel: Any) -> Iterator[None]:
    """Give the kernel an empty message queue while a cell waits, then hand back the rest.

    A second waiting cell of one Run All runs while ipykernel's dispatcher is idle, its
    ``get`` pending on the queue: tornado's queue then hands each message (the panel's
    clicks) straight to that dispatcher, which cannot run until the cell ends, and
    jupyter-ui-poll never sees them. A queue nobody waits on lets it process them.
    """
    waited_on, kernel.msg_queue = kernel.msg_queue, type(kernel.msg_queue)()
    try:
        yield
    finally:
        unprocessed, kernel.msg_queue = kernel.msg_queue, waited_on
        while not unprocessed.empty():
            waited_on.put_nowait(unprocessed.get_nowait())
