"""A third agent, for notebook 11: one user's tokens from two external services.

The quickstart's external service (the identity pool, credential provider 04) and a second
one, the calendar (its own pool and provider). Each service has its own decorated
function, so its own consent; one more function asks the calendar with
``force_authentication=True``, to make the user consent again although the vault holds
their token. Like the machine agent it calls no language model: the payload names the
service. It answers whose token it got and a short SHA-256 of it, never the token, in
fields named as agent.py's (``authorization_url``, ``token_obtained``, ``external_user``).
"""

import asyncio
import base64
import contextlib
import contextvars
import hashlib
import json
import os
from collections.abc import Awaitable, Callable

from bedrock_agentcore.identity.auth import requires_access_token
from bedrock_agentcore.runtime import BedrockAgentCoreApp
from botocore.exceptions import ClientError

app = BedrockAgentCoreApp()

# Set at deploy time (11): the two credential providers, and the user's return URL.
EXTERNAL_PROVIDER = os.environ.get("CREDENTIAL_PROVIDER_NAME", "")
CALENDAR_PROVIDER = os.environ.get("CALENDAR_PROVIDER_NAME", "")
CALLBACK_URL = os.environ.get("CALLBACK_URL")

# The authorization URL of this request (as in agent.py: never shared between requests).
auth_url_holder: contextvars.ContextVar[asyncio.Future] = contextvars.ContextVar("auth_url")


def on_auth_url(url: str) -> None:
    future = auth_url_holder.get()
    if not future.done():
        future.set_result(url)


def user_federation(provider: str, force: bool = False):
    """The decorator for one service: the user's own token, with their consent."""
    return requires_access_token(
        provider_name=provider,
        scopes=["openid"],
        auth_flow="USER_FEDERATION",
        on_auth_url=on_auth_url,
        callback_url=CALLBACK_URL,
        force_authentication=force,
    )


@user_federation(EXTERNAL_PROVIDER)
async def external_token(*, access_token: str) -> str:
    return access_token


@user_federation(CALENDAR_PROVIDER)
async def calendar_token(*, access_token: str) -> str:
    return access_token


@user_federation(CALENDAR_PROVIDER, force=True)
async def calendar_token_again(*, access_token: str) -> str:
    """Always a new consent: AgentCore Identity answers with a link even if it holds a token."""
    return access_token


SERVICES = {"external": "external service", "calendar": "calendar"}
TOKENS: dict[tuple[str, bool], Callable[[], Awaitable[str]]] = {
    ("external", False): external_token,
    ("calendar", False): calendar_token,
    ("calendar", True): calendar_token_again,
}


def external_user(token: str) -> str:
    """The ``username`` claim of the access token: read for showing, not verified."""
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims.get("username", claims.get("sub", "unknown"))


async def token_or_link(get_token: Callable[[], Awaitable[str]]) -> tuple[str | None, str | None]:
    """The token, or the authorization URL if the user must consent first (then stop waiting)."""
    url = asyncio.get_running_loop().create_future()
    auth_url_holder.set(url)
    token_task = asyncio.create_task(get_token())
    await asyncio.wait({token_task, url}, return_when=asyncio.FIRST_COMPLETED)
    if url.done():
        token_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await token_task
        return None, url.result()
    return token_task.result(), None


@app.entrypoint
async def invoke(payload, context):
    """{"service": "external" | "calendar", "consent_again": bool}"""
    service = payload.get("service", "external")
    get_token = TOKENS.get((service, bool(payload.get("consent_again"))))
    if get_token is None:
        return {"service": service, "response": f"❌ No such service: {service!r}."}
    try:
        token, link = await token_or_link(get_token)
    except ClientError as error:  # AgentCore Identity said no: say what it said
        return {"service": service, "response": f"❌ {error.response['Error']['Message']}"}
    if link:
        return {
            "service": service,
            "authorization_url": link,
            "response": f"🔐 Authorization Required for the {SERVICES[service]}: open {link}",
        }
    user, fingerprint = external_user(token), hashlib.sha256(token.encode()).hexdigest()[:12]
    return {
        "service": service,
        "token_obtained": True,
        "external_user": user,
        "token_fingerprint": f"sha256:{fingerprint}",
        "response": f"✅ Authenticated to the {SERVICES[service]} as {user}",
    }


if __name__ == "__main__":
    app.run()
