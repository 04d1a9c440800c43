"""Quickstart step 8 through the helpers, with the workshop's own agent deployed locally."""

import html
import json
from dataclasses import replace

import pytest
from ipywidgets import VBox

from helpers import cognito, consent, runtime, widgets
from helpers.errors import WorkshopError

AUTHENTICATED = "✅ Authenticated to external service"  # the quickstart agent's own words


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
            assert AUTHENTICATED in _ask(be, agent, bearer, attempt)["response"]
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
    assert AUTHENTICATED in _ask(be, agent, bearer, session)["response"]


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
        assert AUTHENTICATED in shown and "{'response'" not in shown  # the text, not a dict
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


@pytest.mark.parametrize(
    "wrapped",
    ["{url}", "{url}.", "**{url}**", "`{url}`", "[sign in]({url})", "<{url}>", "{url}\n\nThen"],
)
def test_the_link_is_found_however_a_model_words_the_answer(wrapped):
    url = "https://bedrock-agentcore.us-east-1.amazonaws.com/identities/oauth2/authorize?request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3Aab-c_1"
    answer = {"response": "🔐 Authorization Required\n\nPlease open: " + wrapped.format(url=url)}
    assert consent.authorization_url_in(answer) == url
    assert consent.authorization_url_in({"response": "✅ Authenticated"}) is None
