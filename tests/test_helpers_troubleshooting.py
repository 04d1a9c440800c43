"""Notebook 12's cases through the helpers: each failure really happens, and each fix works.

The workshop's own agent is deployed once on the local backend (`shared_deployment`);
every case runs against it and against 05's workload identity, as the notebook does.
"""

import pytest

from helpers import troubleshooting, workload_identity
from helpers.troubleshooting import FIX, NOT_PROVOKED, SYMPTOM


@pytest.fixture
def setting(shared_deployment):
    be, ws, pools, agent, _ = shared_deployment
    workload_identity.ensure_workload_identity(be, ws)
    return troubleshooting.prepare(be, ws, pools, agent)


def test_a_tool_without_the_requests_workload_access_token_is_refused_by_the_sdk(setting):
    failed = troubleshooting.workload_access_token_not_set(setting)
    assert (failed.code, failed.as_described) == ("ValueError", True)
    assert failed.message.startswith("Workload access token has not been set.")
    fixed = troubleshooting.workload_access_token_set(setting)
    assert fixed.as_described, fixed.message
    assert fixed.message.startswith(("an authorization URL: http", "an access token"))


def test_a_printed_authorization_url_reaches_the_log_and_not_the_caller(setting):
    printed = troubleshooting.url_printed(setting)
    assert printed.as_described
    assert "/identities/oauth2/authorize?request_uri=" in printed.log
    handed_back = troubleshooting.url_in_the_answer(setting)
    assert handed_back.as_described
    assert handed_back.message.startswith("an authorization URL: http")


def test_an_expired_token_is_not_forged_and_a_refreshed_one_is_let_in(setting):
    assert troubleshooting.bearer_token_lifetime(setting).step == NOT_PROVOKED
    fixed = troubleshooting.bearer_token_refreshed(setting)
    assert fixed.as_described, fixed.message
    assert "HTTP 200" in fixed.message


def test_sign_in_without_secret_hash_gets_cognitos_error(setting):
    failed = troubleshooting.secret_hash_missing(setting)
    assert failed.code == "NotAuthorizedException"
    assert failed.message == (
        f"Client {setting.web_client.client_id} is configured with secret but "
        "SECRET_HASH was not received"
    )
    assert troubleshooting.secret_hash_sent(setting).as_described


def test_no_return_url_on_the_workload_identity_refuses_the_flow(setting):
    failed = troubleshooting.return_url_not_registered(setting)
    assert (failed.code, failed.as_described) == ("ValidationException", True)
    assert "at least one ResourceOauth2ReturnUrl" in failed.message
    fixed = troubleshooting.return_url_registered(setting)
    assert fixed.as_described, fixed.message
    assert troubleshooting.return_urls_as_configured(setting)


def test_a_return_url_on_the_wrong_workload_identity_fails_the_agent(setting):
    failed = troubleshooting.return_url_on_the_wrong_workload_identity(setting)
    assert (failed.code, failed.step, failed.as_described) == ("ValidationException", SYMPTOM, True)
    assert "GetResourceOauth2Token" in failed.operation
    fixed = troubleshooting.return_url_on_the_runtimes_workload_identity(setting)
    assert (fixed.step, fixed.as_described) == (FIX, True), fixed.message
    assert troubleshooting.return_urls_as_configured(setting)


def test_no_callback_url_means_no_return_url_in_the_request(setting):
    failed = troubleshooting.callback_url_missing(setting)
    assert (failed.code, failed.message) == (
        "ValidationException",
        "You must provide a ResourceOauth2ReturnUrl to proceed with this flow",
    )
    assert troubleshooting.callback_url_given(setting).as_described
    assert troubleshooting.return_urls_as_configured(setting)


def test_a_re_minted_token_cannot_bind_and_the_original_can(setting):
    failed = troubleshooting.bound_with_a_new_token(setting)
    assert (failed.code, failed.message) == ("AccessDeniedException", "Invalid or expired session")
    fixed = troubleshooting.bound_with_the_same_token(setting)
    assert fixed.as_described, fixed.message
    assert "an access token" in fixed.message


@pytest.mark.parametrize(
    ("provoke", "fix", "code", "message"),
    [
        (
            troubleshooting.id_token_sent,
            troubleshooting.access_token_sent,
            "UnauthorizedException",
            "HTTP 401: Claim 'client_id' value mismatch with configuration.",
        ),
        (
            troubleshooting.token_of_another_client,
            troubleshooting.token_of_the_allowed_client,
            "UnauthorizedException",
            "HTTP 401: Claim 'client_id' value mismatch with configuration.",
        ),
    ],
    ids=["id-token", "other-client"],
)
def test_the_runtime_refuses_a_token_not_for_its_client(setting, provoke, fix, code, message):
    failed = provoke(setting)
    assert (failed.code, failed.message) == (code, message)
    assert fix(setting).as_described


def test_a_short_session_id_is_refused(setting):
    failed = troubleshooting.session_id_too_short(setting)
    assert (failed.code, failed.as_described) == ("ValidationException", True)
    assert failed.message.startswith("HTTP 400:")
    assert troubleshooting.session_id_long_enough(setting).as_described


def test_the_summary_has_a_row_per_case(setting):
    attempts = [
        troubleshooting.session_id_too_short(setting),
        troubleshooting.session_id_long_enough(setting),
    ]
    rows = troubleshooting.summary(attempts).rows
    assert [row["Case"] for row in rows] == list(troubleshooting.FIXES)
    short = next(row for row in rows if row["Case"] == troubleshooting.SHORT_SESSION)
    assert (short["Error code"], short["Fix works"]) == ("ValidationException", "yes")
    assert not troubleshooting.not_as_described(attempts)


def test_tidy_up_deletes_and_forgets_what_prepare_made(shared_deployment, setting):
    be, ws, *_ = shared_deployment
    assert len(troubleshooting.tidy_up(be, ws).rows) == 2
    assert ws.get(troubleshooting.COLLEAGUE) is None
    assert ws.get(troubleshooting.WEB_CLIENT) is None
    assert troubleshooting.tidy_up(be, ws).rows == [{"Deleted": "(nothing: already tidy)"}]
