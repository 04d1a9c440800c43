"""Quickstart step 8 through the helpers, with the workshop's own agent deployed locally."""

import json
from dataclasses import replace

import pytest
from ipywidgets import VBox

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
            assert _ask(be, agent, bearer, attempt)["response"].startswith("Connected")
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
    assert _ask(be, agent, bearer, session)["response"].startswith("Connected")


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


def test_the_authorization_panel_reports_and_reinvokes(deployment):
    be, _, pools, agent, binding_url = deployment
    bearer = cognito.bearer_token(be, pools.runtime)
    binding = consent.serve_session_binding(be, binding_url, bearer)
    session = runtime.new_session_id()
    answers = []
    try:
        link = consent.authorization_url_in(_ask(be, agent, bearer, session))
        panel = widgets.authorization_panel(
            be, link, binding, lambda: answers.append(_ask(be, agent, bearer, session))
        )
        link_html, status, again, *_ = panel.children
        assert link in link_html.value and status.value == widgets.WAITING
        consent.sign_in_headlessly(link, pools.identity)
        binding.wait(10)
        assert status.value.startswith("✅")
        again.click()
        assert answers[0]["response"].startswith("Connected")
    finally:
        binding.stop()


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

    def step():
        link = consent.authorization_url_in(_ask(be, agent, binding.bearer_token, session))
        reinvoke = lambda: _ask(be, agent, binding.bearer_token, session)  # noqa: E731
        return widgets.consent_step(be, link, binding, reinvoke, pools.identity, False)

    assert repr(step()).startswith(f"Signed in as {pools.identity.username}: ")
    binding.wait(10)
    assert repr(step()).startswith("Already connected")
    hops = [call.operation for call in be.calls.calls if call.service == "browser"]
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


def test_the_consent_step_gives_a_person_the_panel(deployment, binding):
    be, _, pools, agent, _ = deployment
    first = _ask(be, agent, binding.bearer_token, runtime.new_session_id())
    link = consent.authorization_url_in(first)
    panel = widgets.consent_step(be, link, binding, lambda: None, pools.identity, True)
    assert isinstance(panel, VBox) and link in panel.children[0].value
