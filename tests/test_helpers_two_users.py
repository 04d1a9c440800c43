"""Two users of one agent: each gets their own external token, and binds only their own session."""

from helpers import consent, two_users


def test_each_user_gets_their_own_token_and_binds_only_their_own_session(shared_deployment):
    be, ws, pools, agent, binding_url = shared_deployment
    you, bob = (two_users.start(be, agent, p) for p in two_users.people(be, ws, pools))
    yours = two_users.consented(you, binding_url)
    assert two_users.external_user(yours) == pools.identity.username

    link = consent.authorization_url_in(bob.ask())
    assert link, "your consent gave Bob your token"
    landed_on = two_users.sign_in_at_the_service(link, bob.person, binding_url)
    refused = two_users.try_to_bind(be, landed_on, you.person, you.bearer)
    assert (refused["Answer"], refused["Message"]) == (
        "AccessDeniedException",
        "Invalid or expired session",
    )
    assert two_users.try_to_bind(be, landed_on, bob.person, bob.bearer)["Answer"] == "bound"
    bobs = bob.ask()
    assert two_users.external_user(bobs) == bob.person.external.username
    assert two_users.external_user(bobs) != two_users.external_user(yours)
    drawn = two_users.who_holds_what([you, bob], [yours, bobs]).data
    assert f"token of {bob.person.external.username}" in drawn


def test_people_are_recorded_once(shared_deployment):
    be, ws, pools, *_ = shared_deployment
    first, again = two_users.people(be, ws, pools), two_users.people(be, ws, pools)
    assert first == again and ws.get("bob_runtime_user")["kind"] == "cognito-user"
