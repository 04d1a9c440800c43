"""The token vault's binding rules, in-process: who may bind a session, when, and what then.

The HTTP tests (test_emulator_federation.py) drive the same rules through the SDK; these
call `TokenVault` directly, so each rule is one fast test.
"""

import hashlib
import time

import pytest

from emulator.exceptions import AccessDeniedException, ValidationException
from emulator.identity.federation import EXPIRED_SESSION, TokenVault
from emulator.identity.tokens import WorkloadToken

RETURN_URL = "http://127.0.0.1:8765/oauth2/callback?tab=agent"
ALICE_JWT, BOB_JWT = "alice.jwt.token", "bob.jwt.token"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def owner(user_token: str = ALICE_JWT, subject: str = "alice") -> WorkloadToken:
    """What the data plane reads from a workload access token minted for a user's JWT."""
    return WorkloadToken(
        account="123456789012",
        region="us-east-1",
        workload="workload",
        issuer="http://127.0.0.1:1/pool",
        subject=subject,
        user_token_sha256=sha256(user_token),
    )


def ask(vault: TokenVault, who: WorkloadToken, **options) -> dict[str, str]:
    arguments = {
        "session_uri": None,
        "return_url": RETURN_URL,
        "force": False,
        "custom_state": None,
        "custom_parameters": None,
        **options,
    }
    return vault.user_federation(who, "provider", ["openid"], [RETURN_URL], **arguments)


def consented(vault: TokenVault, session_uri: str) -> None:
    """What the provider callback does once the user signed in: the code is exchanged."""
    session = vault.sessions[session_uri]
    session.token = {"access_token": "the-users-access-token", "expires_in": 3600}
    session.status = "AUTHORIZED"


@pytest.fixture
def vault() -> TokenVault:
    return TokenVault()


def test_a_first_request_gets_an_authorization_url(vault):
    answer = ask(vault, owner())
    assert answer["sessionStatus"] == "IN_PROGRESS"
    assert answer["sessionUri"].startswith("urn:ietf:params:oauth:request_uri:")
    assert "/identities/oauth2/authorize?request_uri=" in answer["authorizationUrl"]


def test_user_federation_needs_a_return_url(vault):
    with pytest.raises(ValidationException, match="You must provide a ResourceOauth2ReturnUrl"):
        ask(vault, owner(), return_url=None)


def test_the_return_url_must_be_allowed(vault):
    with pytest.raises(ValidationException, match="not one of the allowed return URLs"):
        ask(vault, owner(), return_url="http://127.0.0.1:9/elsewhere")


def test_the_return_url_keeps_its_query_and_gains_the_session(vault):
    uri = ask(vault, owner(), custom_state="s1")["sessionUri"]
    url = vault.return_url(vault.sessions[uri])
    assert url.startswith("http://127.0.0.1:8765/oauth2/callback?tab=agent&session_id=urn")
    assert url.endswith("&state=s1")


def test_the_same_user_binds_the_session_and_the_token_is_vaulted(vault):
    uri = ask(vault, owner())["sessionUri"]
    consented(vault, uri)
    vault.complete(uri, {"userToken": ALICE_JWT}, sha256)
    assert ask(vault, owner(), session_uri=uri) == {"accessToken": "the-users-access-token"}


def test_another_user_cannot_bind_the_session(vault):
    uri = ask(vault, owner())["sessionUri"]
    consented(vault, uri)
    with pytest.raises(AccessDeniedException, match=EXPIRED_SESSION):
        vault.complete(uri, {"userToken": BOB_JWT}, sha256)
    assert vault.sessions[uri].status == "AUTHORIZED"


def test_a_user_id_binds_only_a_session_started_for_that_user_id(vault):
    by_id = WorkloadToken("123456789012", "us-east-1", "workload", user_id="alice")
    uri = ask(vault, by_id)["sessionUri"]
    consented(vault, uri)
    with pytest.raises(AccessDeniedException):
        vault.complete(uri, {"userId": "bob"}, sha256)
    vault.complete(uri, {"userId": "alice"}, sha256)
    assert vault.sessions[uri].status == "COMPLETE"


def test_a_session_binds_once(vault):
    uri = ask(vault, owner())["sessionUri"]
    consented(vault, uri)
    vault.complete(uri, {"userToken": ALICE_JWT}, sha256)
    with pytest.raises(AccessDeniedException, match=EXPIRED_SESSION):
        vault.complete(uri, {"userToken": ALICE_JWT}, sha256)


def test_a_session_cannot_bind_before_the_user_consented(vault):
    uri = ask(vault, owner())["sessionUri"]
    with pytest.raises(AccessDeniedException, match=EXPIRED_SESSION):
        vault.complete(uri, {"userToken": ALICE_JWT}, sha256)


def test_an_expired_session_cannot_bind_and_reports_failed(vault):
    uri = ask(vault, owner())["sessionUri"]
    consented(vault, uri)
    vault.sessions[uri].expires = time.time() - 1  # expired a second ago
    with pytest.raises(AccessDeniedException, match=EXPIRED_SESSION):
        vault.complete(uri, {"userToken": ALICE_JWT}, sha256)
    assert ask(vault, owner(), session_uri=uri)["sessionStatus"] == "FAILED"


def test_another_user_cannot_poll_a_session(vault):
    uri = ask(vault, owner())["sessionUri"]
    with pytest.raises(ValidationException, match="is not a session of this caller"):
        ask(vault, owner(BOB_JWT, subject="bob"), session_uri=uri)


def test_the_vaulted_token_serves_a_new_request_of_the_same_user(vault):
    uri = ask(vault, owner())["sessionUri"]
    consented(vault, uri)
    vault.complete(uri, {"userToken": ALICE_JWT}, sha256)
    a_new_jwt_of_alice = owner("alice.second.jwt")
    assert ask(vault, a_new_jwt_of_alice) == {"accessToken": "the-users-access-token"}
    assert ask(vault, owner(BOB_JWT, subject="bob"))["sessionStatus"] == "IN_PROGRESS"


def test_force_authentication_starts_over(vault):
    uri = ask(vault, owner())["sessionUri"]
    consented(vault, uri)
    vault.complete(uri, {"userToken": ALICE_JWT}, sha256)
    again = ask(vault, owner(), force=True)
    assert again["sessionStatus"] == "IN_PROGRESS" and again["sessionUri"] != uri
