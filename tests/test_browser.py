"""The consent pages in a real browser: headless Chromium (Debian's) driven by Playwright."""

from helpers import cognito, consent, runtime
from tests.support import ARTIFACTS


def _first_answer(be, agent, bearer, session):
    answer = runtime.invoke(
        be, agent.arn, bearer, session, {"prompt": "Check the external service"}
    )
    return consent.authorization_url_in(answer)


def test_signing_in_and_consenting_in_a_browser(deployment, chromium):
    be, _, pools, agent, binding_url = deployment
    bearer = cognito.bearer_token(be, pools.runtime)
    binding = consent.serve_session_binding(be, binding_url, bearer)
    session = runtime.new_session_id()
    try:
        page = chromium.new_page()
        page.goto(_first_answer(be, agent, bearer, session))
        page.screenshot(path=ARTIFACTS / "consent-1-sign-in.png")
        page.fill("#signInFormUsername", pools.identity.username)
        page.fill("#signInFormPassword", pools.identity.password)
        page.click("input[name=signInSubmitButton]")
        page.wait_for_selector("text=You're connected")
        assert page.url.startswith(binding_url)
        page.screenshot(path=ARTIFACTS / "consent-2-connected.png")
        binding.wait(10)
    finally:
        binding.stop()
    answer = runtime.invoke(be, agent.arn, bearer, session, {"prompt": "Check again"})
    assert consent.token_obtained(answer)
    # The notebook made none of the browser's requests, yet the diagram has them all.
    diagram = be.calls.sequence_diagram(session, be.server_hops(session)).data
    for arrow in (
        "Browser->>Identity: open the authorization URL",
        "Browser->>Cognito: sign-in page → 200",
        "Browser->>Cognito: sign in (username, password) → 302",
        "Browser->>Identity: provider callback, with the code → 302",
        "Browser->>Binding: return URL, with session_id → 200",
        "Binding->>Identity: CompleteResourceTokenAuth → 200",
    ):
        assert arrow in diagram, arrow


def test_a_wrong_password_in_the_browser_shows_an_error(deployment, chromium):
    be, _, pools, agent, _ = deployment
    bearer = cognito.bearer_token(be, pools.runtime)
    page = chromium.new_page()
    page.goto(_first_answer(be, agent, bearer, runtime.new_session_id()))
    page.fill("#signInFormUsername", pools.identity.username)
    page.fill("#signInFormPassword", "Not-the-password-1")
    page.click("input[name=signInSubmitButton]")
    page.wait_for_selector("#loginErrorMessage")
    assert "Incorrect username or password." in page.inner_text("#loginErrorMessage")
    page.screenshot(path=ARTIFACTS / "consent-wrong-password.png")
