"""AgentCore Identity Quickstart: Inbound + Outbound Authentication

The CLI quickstart's agent (its step 3), with the same system prompt, tool, texts and
entrypoint. It is changed only where it fails today; each change says "Changed:" and why,
and 02 lists them.
"""

import asyncio
import base64
import contextlib
import contextvars
import json
import os
from dataclasses import asdict, dataclass

from bedrock_agentcore.identity.auth import requires_access_token
from bedrock_agentcore.runtime import BedrockAgentCoreApp
from strands import Agent, tool

app = BedrockAgentCoreApp()

# Changed: read from the environment the deployment sets (06), so a region outside the
# US can use its own inference profile; the quickstart's model is the default.
MODEL_ID = os.environ.get("MODEL_ID", "us.anthropic.claude-sonnet-4-5-20250929-v1:0")
PROVIDER_NAME = os.environ.get("CREDENTIAL_PROVIDER_NAME", "ExternalServiceProvider")
# Changed: where the user's browser lands after consent, to bind the session to the user
# who called (07). AWS refuses USER_FEDERATION without one.
CALLBACK_URL = os.environ.get("CALLBACK_URL")

# Changed: the authorization URL of *this* request. The quickstart keeps it in one
# module-level dict that every request shares, so one user could be sent another's link.
auth_url_holder: contextvars.ContextVar[asyncio.Future] = contextvars.ContextVar("auth_url")


# Changed: what the tool found out in *this* request, returned beside the model's words.
# A model writes a link its own way (a period or ** after it, even escaped): code that
# needs the link, or whether the token came, reads these fields, never the text.
@dataclass
class Outcome:
    authorization_url: str | None = None  # the user must open it to consent
    token_obtained: bool = False  # the tool ran with the user's token
    external_user: str | None = None  # whose token it was (its username claim)
    error: str | None = None  # why the tool failed, as botocore words it


request_outcome: contextvars.ContextVar[Outcome] = contextvars.ContextVar("outcome")


def on_auth_url(url: str) -> None:
    """The SDK calls this when the user must consent first (and then keeps polling)."""
    future = auth_url_holder.get()
    if not future.done():
        future.set_result(url)


@requires_access_token(
    provider_name=PROVIDER_NAME,
    scopes=["openid"],
    auth_flow="USER_FEDERATION",
    on_auth_url=on_auth_url,
    callback_url=CALLBACK_URL,
    force_authentication=False,
)
async def get_identity_token(*, access_token: str) -> str:
    """Get OAuth token from Identity service"""
    return access_token


def external_user(token: str) -> str:
    """The ``username`` claim of the user's access token: read for showing, not verified."""
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims.get("username", claims.get("sub", "unknown"))


@tool
async def check_external_service() -> str:
    """Check authentication to external services via Identity OAuth."""
    url = asyncio.get_running_loop().create_future()
    auth_url_holder.set(url)

    try:
        token_task = asyncio.create_task(get_identity_token())
        # Changed: wait for whichever comes first, the token or the authorization URL,
        # instead of sleeping 0.5 s and guessing (a slow answer looked like a token).
        await asyncio.wait({token_task, url}, return_when=asyncio.FIRST_COMPLETED)

        # Check if authorization is needed
        if url.done():
            token_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await token_task

            request_outcome.get().authorization_url = url.result()
            return (
                f"🔐 Authorization Required\n\n"
                f"Please open this URL in your browser to authorize:\n"
                f"{url.result()}\n\n"
                f"After authorizing, call this tool again with the same session ID."
            )

        # Token obtained
        token = token_task.result()
        outcome = request_outcome.get()
        outcome.token_obtained, outcome.external_user = True, external_user(token)
        return (
            f"✅ Authenticated to external service\n"
            f"Token length: {len(token)} characters\n"
            f"Status: Active and cached for this session\n"
            # Changed: one line more, whose token it is, so two users can see they got two.
            f"External user: {outcome.external_user}"
        )

    except Exception as e:
        request_outcome.get().error = str(e)
        return f"❌ Failed to authenticate: {e}"


@app.entrypoint
async def invoke(payload, context):
    """Main entrypoint"""
    user_message = payload.get("prompt", "")

    agent = Agent(
        model=MODEL_ID,
        system_prompt=(
            "You are a helpful assistant with access to external services via OAuth.\n"
            "When check_external_service returns an authorization URL, "
            "present it clearly to the user and ask them to authorize."
        ),
        tools=[check_external_service],
        # Changed: no printing of the model's stream to stdout, which is the agent's log
        # (CloudWatch): unterminated, it ran into the runtime's own JSON log lines.
        callback_handler=None,
    )

    outcome = Outcome()
    request_outcome.set(outcome)  # this request's own: its tool fills it in

    # invoke_async, not agent(...): the tool then runs in this request's context.
    response = await agent.invoke_async(user_message)
    response_text = str(response.message.get("content", [{}])[0].get("text", ""))

    # Changed: the model's words for people, and the tool's findings for code.
    return {"response": response_text, **asdict(outcome)}


if __name__ == "__main__":
    app.run()
