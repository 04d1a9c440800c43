"""The quickstart's agent: a Strands agent that acts at an external service for its user.

AgentCore Runtime lets a request in only with a valid bearer token, and hands this code a
*workload access token* for that user. `@requires_access_token` trades it for the user's
OAuth2 access token at the external service: from the token vault if the user already
consented, otherwise by asking the user to open an authorization URL first.
"""

import asyncio
import contextvars
import os

from bedrock_agentcore.identity.auth import requires_access_token
from bedrock_agentcore.runtime import BedrockAgentCoreApp
from strands import Agent, tool
from strands.models import BedrockModel

MODEL_ID = os.environ.get("MODEL_ID", "us.anthropic.claude-sonnet-4-5-20250929-v1:0")
PROVIDER_NAME = os.environ.get("CREDENTIAL_PROVIDER_NAME", "ExternalServiceProvider")
# Where the user's browser lands after consent, to bind the session to the user (07).
CALLBACK_URL = os.environ.get("CALLBACK_URL")

app = BedrockAgentCoreApp()
model = BedrockModel(model_id=MODEL_ID)

# The authorization URL of *this* request. A module-level holder would be shared by all
# requests, and one user could be shown another user's URL.
authorization_url: contextvars.ContextVar[asyncio.Future] = contextvars.ContextVar("auth_url")


def on_auth_url(url: str) -> None:
    """The SDK calls this when the user must consent first; it then keeps polling."""
    future = authorization_url.get()
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
async def get_access_token(*, access_token: str) -> str:
    return access_token


@tool
async def check_external_service() -> str:
    """Check whether the agent can reach the external service on the user's behalf."""
    url = asyncio.get_running_loop().create_future()
    authorization_url.set(url)
    token = asyncio.create_task(get_access_token())
    # Whichever comes first: the token (already consented) or an authorization URL.
    await asyncio.wait({token, url}, return_when=asyncio.FIRST_COMPLETED)
    if url.done():
        token.cancel()
        return f"Please authorize access to the external service: {url.result()}"
    return f"Connected to the external service (access token of {len(token.result())} characters)."


@app.entrypoint
async def invoke(payload: dict) -> dict:
    # A fresh agent per request: no conversation leaks from one user to the next.
    agent = Agent(model=model, tools=[check_external_service], callback_handler=None)
    # invoke_async keeps the request's context (and its workload access token) for the tool.
    result = await agent.invoke_async(payload.get("prompt", "Check the external service."))
    return {"response": str(result).strip()}


if __name__ == "__main__":
    app.run()
