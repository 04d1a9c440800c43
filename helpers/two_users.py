"""Two users, one agent: the token vault keeps each user's token for each user alone.

You (the runtime pool's user from 01) and a colleague, Bob, call the same deployed agent.
Each consents as their own external user, and the agent reports whose external token it
got (the token's ``username`` claim, never the token). Bob's consent session cannot be
bound with your bearer token: AgentCore Identity gives a token only to the user who
started the flow, so nobody can slip their consent into someone else's session.

Bob signs in in code (he is not at your keyboard), the way 07's headless run does.
"""

from dataclasses import dataclass
from typing import Any

from IPython.display import Markdown

from helpers import cognito, consent, runtime
from helpers.backend import Backend
from helpers.cognito import CognitoSetup, Pool
from helpers.display import Table, table
from helpers.errors import WorkshopError
from helpers.runtime import Runtime
from helpers.state import WorkshopState

PROMPT = {"prompt": "Call the external service"}


@dataclass(frozen=True)
class Person:
    """Someone who calls the agent: their runtime-pool user and their external user."""

    name: str
    caller: Pool  # signs in to call the agent (runtime pool)
    external: Pool  # signs in at the external service to consent (identity pool)


def people(backend: Backend, state: WorkshopState, pools: CognitoSetup) -> list[Person]:
    """You, with 01's users, and Bob, with a user of each pool of his own (in the ledger)."""
    suffix = state.suffix
    bob = Person(
        "Bob",
        cognito.ensure_user(backend, state, "bob_runtime_user", pools.runtime, f"bob{suffix}"),
        cognito.ensure_user(
            backend, state, "bob_identity_user", pools.identity, f"externalbob{suffix}"
        ),
    )
    return [Person("You", pools.runtime, pools.identity), bob]


def who_is_who(everyone: list[Person]) -> Table:
    return table(
        [
            {
                "Person": p.name,
                "Calls the agent as": p.caller.username,
                "Consents as": p.external.username,
            }
            for p in everyone
        ]
    )


def external_user(answer: dict[str, Any]) -> str | None:
    """Whose external token the agent used (None: it asked for consent).

    The answer's field, which the agent's tool fills in: the model's words may say it
    another way.
    """
    return answer.get("external_user")


@dataclass
class Conversation:
    """One person's runtime session with the agent, and what came back."""

    backend: Backend
    agent: Runtime
    person: Person
    session_id: str
    bearer: str

    def ask(self) -> dict[str, Any]:
        return runtime.invoke(self.backend, self.agent.arn, self.bearer, self.session_id, PROMPT)


def start(backend: Backend, agent: Runtime, person: Person) -> Conversation:
    bearer = cognito.bearer_token(backend, person.caller)
    return Conversation(backend, agent, person, runtime.new_session_id(), bearer)


def sign_in_at_the_service(link: str, person: Person, binding_url: str) -> str:
    """``person`` signs in at the external service; the address their browser lands on.

    The trip stops before the session-binding page, so whoever holds the address can try
    to bind it: the rightful user, or someone else.
    """
    return consent.sign_in_headlessly(link, person.external, stop_at=binding_url).final_url


def try_to_bind(backend: Backend, landed_on: str, who: Person, bearer: str) -> dict[str, str]:
    """CompleteResourceTokenAuth for the session in ``landed_on``, with ``who``'s token."""
    row = {"Binds with the token of": who.name, "Answer": "bound", "Message": ""}
    try:
        consent.complete(backend, landed_on, bearer)
    except WorkshopError as error:
        row |= {"Answer": error.code or "refused", "Message": error.reason or str(error)}
    return row


def consented(conversation: Conversation, binding_url: str) -> dict[str, Any]:
    """The agent's answer once ``conversation``'s person has consented (if they must)."""
    first = conversation.ask()
    link = consent.authorization_url_in(first)
    if link is None:
        return first
    landed_on = sign_in_at_the_service(link, conversation.person, binding_url)
    consent.complete(conversation.backend, landed_on, conversation.bearer)
    return conversation.ask()


def who_holds_what(conversations: list[Conversation], answers: list[dict[str, Any]]) -> Markdown:
    """The vault as the agent saw it: one token per (agent, user), each user's own."""
    lines = ["flowchart LR", "    agent[[the agent's workload identity]]"]
    for number, (talk, answer) in enumerate(zip(conversations, answers, strict=True)):
        caller, external = talk.person.caller.username, external_user(answer) or "(no token)"
        lines += [
            f'    caller{number}["{talk.person.name}: {caller}"] -->|bearer token| agent',
            f'    agent -->|"vault: (agent, {caller})"| token{number}["token of {external}"]',
        ]
    return Markdown("```mermaid\n" + "\n".join(lines) + "\n```")
