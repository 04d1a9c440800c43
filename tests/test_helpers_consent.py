"""Quickstart step 8 through the helpers, with the workshop's own agent deployed locally."""

import html
import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
import requests
from ipywidgets import VBox

from emulator.bedrock import WORDINGS
from helpers import cognito, consent, runtime, widgets
from helpers.errors import WorkshopError


def _ask(be, agent, bearer, session):
    return runtime.invoke(be, agent.arn, bearer, session, {"prompt": "Check the external service"})


def test_consent_once_then_every_session_of_the_user_is_served(deployment):
    be, _, pools, agent, binding_url = deployment
    bearer = cognito.bearer_token(be, pools.runtime)
    binding = consent.serve_session_binding(be, binding_url, bearer)
    try:
        session = runtime.new_session_id()
        link = consent.authorization_url_in(_ask(be, agent, bearer, session))
        assert link is not None
        trip = consent.sign_in_headlessly(link, pools.identity)
        assert trip.final_url.startswith(binding_url)
        assert binding.wait(10).startswith("urn:ietf:params:oauth:request_uri:")
        for attempt in (session, session, runtime.new_session_id()):
            assert consent.token_obtained(_ask(be, agent, bearer, attempt))
        assert len(binding.completed) == 1
    finally:
        binding.stop()


def test_a_pasted_return_address_binds_the_session(deployment):
    be, _, pools, agent, binding_url = deployment
    bearer = cognito.bearer_token(be, pools.runtime)
    session = runtime.new_session_id()
    link = consent.authorization_url_in(_ask(be, agent, bearer, session))
    trip = consent.sign_in_headlessly(link, pools.identity, stop_at=binding_url)
    assert "session_id=" in trip.final_url
    consent.complete(be, trip.final_url, bearer)
    assert consent.token_obtained(_ask(be, agent, bearer, session))


def test_a_pasted_address_without_a_session_is_explained(deployment):
    be, _, pools, _, binding_url = deployment
    with pytest.raises(WorkshopError, match="no session_id"):
        consent.complete(be, binding_url, cognito.bearer_token(be, pools.runtime))


def test_the_binding_page_refuses_another_users_token(deployment):
    be, _, pools, agent, binding_url = deployment
    bearer = cognito.bearer_token(be, pools.runtime)
    someone_else = cognito.bearer_token(be, pools.runtime)  # same user, a re-minted token
    binding = consent.serve_session_binding(be, binding_url, someone_else)
    try:
        link = consent.authorization_url_in(_ask(be, agent, bearer, runtime.new_session_id()))
        with pytest.raises(WorkshopError, match="HTTP 400"):
            consent.sign_in_headlessly(link, pools.identity)  # the page says "Not connected"
        with pytest.raises(WorkshopError, match="Invalid or expired session"):
            binding.wait(10)
    finally:
        binding.stop()
    assert consent.authorization_url_in(_ask(be, agent, bearer, runtime.new_session_id()))


def test_a_wrong_external_password_is_explained(deployment):
    be, _, pools, agent, _ = deployment
    bearer = cognito.bearer_token(be, pools.runtime)
    link = consent.authorization_url_in(_ask(be, agent, bearer, runtime.new_session_id()))
    wrong = replace(pools.identity, password="Not-the-password-1")
    with pytest.raises(WorkshopError, match="refused"):
        consent.sign_in_headlessly(link, wrong)


def test_the_authorization_panel_reveals_the_password_reports_and_reinvokes(deployment, capsys):
    be, _, pools, agent, binding_url = deployment
    bearer = cognito.bearer_token(be, pools.runtime)
    binding = consent.serve_session_binding(be, binding_url, bearer)
    session = runtime.new_session_id()
    try:
        link = consent.authorization_url_in(_ask(be, agent, bearer, session))
        panel = widgets.authorization_panel(
            be, binding, lambda: _ask(be, agent, bearer, session), pools.identity
        )
        credentials, status, again, *_ = panel.children
        _, password, reveal = credentials.children
        assert pools.identity.password not in repr(panel)  # what a saved notebook keeps
        reveal.value = True
        assert password.value == pools.identity.password and not password.disabled
        reveal.value = False
        assert password.value == widgets.HIDDEN
        assert status.value == widgets.WAITING
        consent.sign_in_headlessly(link, pools.identity)
        assert widgets.wait_for_consent(binding, 10).startswith("urn:")  # outside a kernel
        assert status.value.startswith("✅")
        again.click()
        shown = capsys.readouterr().out
        assert status.value == widgets.TOKEN_USED
        assert shown.strip() and "{'response'" not in shown  # the model's words, not a dict
    finally:
        binding.stop()


def test_the_sign_in_card_is_plain_html_with_the_link_and_no_password(deployment):
    _, _, pools, _, _ = deployment
    link = "http://127.0.0.1:1/identities/oauth2/authorize?request_uri=urn%3Ax"
    card = widgets.sign_in_card(link, pools.identity).data
    assert html.escape(link) in card and pools.identity.username in card
    assert pools.identity.password not in card and "signing in is the consent" in card


@pytest.fixture
def binding(deployment):
    """The session-binding page, served for the runtime user's bearer token."""
    be, _, pools, _, binding_url = deployment
    served = consent.serve_session_binding(be, binding_url, cognito.bearer_token(be, pools.runtime))
    yield served
    served.stop()


def test_the_consent_step_signs_in_headlessly_then_finds_the_vaulted_token(deployment, binding):
    be, _, pools, agent, _ = deployment
    session = runtime.new_session_id()
    earlier = len(be.calls.calls)  # the backend is shared: what other tests called

    def step():
        link = consent.authorization_url_in(_ask(be, agent, binding.bearer_token, session))
        reinvoke = lambda: _ask(be, agent, binding.bearer_token, session)  # noqa: E731
        return widgets.consent_step(be, link, binding, reinvoke, pools.identity, False)

    assert repr(step()).startswith(f"Signed in as {pools.identity.username}: ")
    binding.wait(10)
    assert repr(step()).startswith("Already connected")
    hops = [call.operation for call in be.calls.calls[earlier:] if call.service == "browser"]
    assert hops[0] == "GET /identities/oauth2/authorize?request_uri"  # names, never values
    assert any(hop.endswith("?code&state") for hop in hops)
    seen_here = be.calls.sequence_diagram(session).data  # as on AWS: no trace of the service
    assert seen_here.startswith("```mermaid\nsequenceDiagram\n")
    for arrow in ("Browser->>Cognito: sign in", "Browser->>Identity: provider callback"):
        assert arrow in seen_here
    assert "Binding->>Identity: CompleteResourceTokenAuth → 200" in seen_here
    assert "Runtime->>Agent" not in seen_here and "Not visible from here on AWS" in seen_here
    traced = be.calls.sequence_diagram(session, be.server_hops(session)).data
    for arrow in (
        "You->>Runtime: InvokeAgentRuntime",
        "Runtime->>Runtime: JWT authorizer checks the bearer token → OK",
        "Runtime->>Agent: POST /invocations, workload access token → 200",
        "Agent->>Identity: GetResourceOauth2Token (USER_FEDERATION): authorization URL → OK",
        "Browser->>Identity: open the authorization URL, on to the provider → 302",
        "Browser->>Cognito: sign in (username, password) → 302",
        "Identity->>Cognito: token endpoint: code and PKCE verifier",
        "Browser->>Binding: return URL, with session_id → 200",
        "Identity->>Identity: token vaulted for (agent, you) → OK",
        "Agent->>Identity: GetResourceOauth2Token (USER_FEDERATION): access token → OK",
    ):
        assert arrow in traced, arrow
    assert traced.count("Browser->>Identity: provider callback") == 1  # seen once, not twice
    assert "Not visible" not in traced
    trace = json.dumps(be.server_hops(session))
    assert binding.bearer_token not in trace and "urn:ietf" not in trace  # no token, no session URI


def test_the_consent_step_gives_a_person_the_card_and_the_panel(deployment, binding, capsys):
    be, _, pools, agent, _ = deployment
    first = _ask(be, agent, binding.bearer_token, runtime.new_session_id())
    link = consent.authorization_url_in(first)
    panel = widgets.consent_step(be, link, binding, lambda: None, pools.identity, True)
    assert isinstance(panel, VBox)
    assert "IPython.core.display.HTML" in capsys.readouterr().out  # the card, displayed


def test_however_the_model_writes_the_link_the_answer_carries_it_exactly(deployment):
    """The stand-in words each answer its own way (the link followed by a period, in bold or
    backticks, a markdown link, on a line of its own, escaped): the field is the link."""
    be, _, pools, agent, _ = deployment
    bearer = cognito.bearer_token(be, pools.runtime)
    answers = [_ask(be, agent, bearer, runtime.new_session_id()) for _ in WORDINGS]
    links = [consent.authorization_url_in(answer) for answer in answers]
    met = {
        number
        for answer, link in zip(answers, links, strict=True)
        for number, (_, written) in enumerate(WORDINGS)
        if written(link) in answer["response"]
    }
    assert met == set(range(len(WORDINGS)))
    for link in links:  # each is exact: AgentCore Identity sends the browser on (400 if not)
        assert requests.get(link, allow_redirects=False, timeout=10).status_code == 302, link


def test_the_link_and_the_connected_state_come_from_the_answers_fields(deployment, binding):
    """An answer whose words break the link, then answers whose words say nothing: the
    consent step still gets the exact link, and the panel still sees the token arrive."""
    be, _, pools, agent, _ = deployment
    session = runtime.new_session_id()
    answers = (_ask(be, agent, binding.bearer_token, session) for _ in WORDINGS)
    broken = next(a for a in answers if a["authorization_url"] not in a["response"])

    def terse() -> dict:  # the agent's answer, as a model that says little words it
        return {**_ask(be, agent, binding.bearer_token, session), "response": "Done."}

    panel = widgets.authorization_panel(be, binding, terse, pools.identity)
    _, status, again, *_ = panel.children
    again.click()
    assert status.value == widgets.STILL_ASKS
    link = consent.authorization_url_in(broken)
    step = widgets.consent_step(be, link, binding, terse, pools.identity, interactive=False)
    assert repr(step).startswith(f"Signed in as {pools.identity.username}: ")
    again.click()
    assert status.value == widgets.TOKEN_USED


def test_requests_at_the_same_time_each_get_their_own_fields(deployment):
    """You have consented, a colleague has not; your calls and theirs, all at once."""
    be, ws, pools, agent, binding_url = deployment
    you = cognito.bearer_token(be, pools.runtime)
    link = consent.authorization_url_in(_ask(be, agent, you, runtime.new_session_id()))
    consent.complete(
        be, consent.sign_in_headlessly(link, pools.identity, stop_at=binding_url).final_url, you
    )
    name = f"colleague{uuid.uuid4().hex[:8]}"
    colleague = cognito.bearer_token(be, cognito.ensure_user(be, ws, name, pools.runtime, name))
    callers = [you, colleague] * 4
    with ThreadPoolExecutor(len(callers)) as threads:
        answers = list(
            threads.map(lambda bearer: _ask(be, agent, bearer, runtime.new_session_id()), callers)
        )
    yours, theirs = answers[::2], answers[1::2]
    assert all(a["token_obtained"] and a["authorization_url"] is None for a in yours), yours
    assert {a["external_user"] for a in yours} == {pools.identity.username}
    assert not any(a["token_obtained"] or a["external_user"] for a in theirs), theirs
    assert len({a["authorization_url"] for a in theirs}) == len(theirs)  # a link each
