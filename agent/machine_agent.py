"""A second agent that works for no user: machine-to-machine tokens and API keys.

Notebooks 09 and 10 deploy it as a runtime of its own, beside the quickstart's agent, from
the same zip. It calls no language model: each request names the tool to run, so what
AgentCore Identity hands it is all there is to see. It never returns a credential, only
what it can safely say about one: an access token's scopes, an API key's fingerprint.
"""

import base64
import hashlib
import json
import os

from bedrock_agentcore.identity.auth import requires_access_token, requires_api_key
from bedrock_agentcore.runtime import BedrockAgentCoreApp
from botocore.exceptions import ClientError

app = BedrockAgentCoreApp()

# Set at deploy time (09 and 10): the credential providers, and the Cognito resource
# server whose scopes the machine client asks for.
M2M_PROVIDER = os.environ.get("M2M_PROVIDER_NAME", "")
RESOURCE_SERVER = os.environ.get("M2M_RESOURCE_SERVER", "external-service")
API_KEY_PROVIDER = os.environ.get("API_KEY_PROVIDER_NAME", "")


@requires_access_token(
    provider_name=M2M_PROVIDER, scopes=[f"{RESOURCE_SERVER}/read"], auth_flow="M2M"
)
async def read_token(*, access_token: str) -> str:
    return access_token


@requires_access_token(
    provider_name=M2M_PROVIDER, scopes=[f"{RESOURCE_SERVER}/write"], auth_flow="M2M"
)
async def write_token(*, access_token: str) -> str:
    return access_token


@requires_api_key(provider_name=API_KEY_PROVIDER)
async def api_key(*, api_key: str) -> str:
    return api_key


def claims(token: str) -> dict:
    """The token's payload, read but NOT verified: fine for showing, never for trusting."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


async def m2m_scopes(scope: str) -> dict:
    """What the token AgentCore Identity got for the machine client is good for."""
    token = await (write_token() if scope == "write" else read_token())
    found = claims(token)
    return {"scope": found.get("scope"), "client_id": found.get("client_id")}


async def api_key_fingerprint() -> dict:
    """Which API key the agent got, without showing it: a short SHA-256 of it."""
    key = await api_key()
    return {"fingerprint": "sha256:" + hashlib.sha256(key.encode()).hexdigest()[:12]}


@app.entrypoint
async def invoke(payload, context):
    """{"tool": "m2m_scopes", "scope": "read" | "write"} or {"tool": "api_key_fingerprint"}"""
    tool = payload.get("tool")
    try:
        if tool == "m2m_scopes":
            return {"tool": tool, **await m2m_scopes(payload.get("scope", "read"))}
        if tool == "api_key_fingerprint":
            return {"tool": tool, **await api_key_fingerprint()}
    except ClientError as error:  # AgentCore Identity said no: say what it said
        return {"tool": tool, "error": error.response["Error"]}
    return {"error": {"Code": "UnknownTool", "Message": f"No tool {tool!r}."}}


if __name__ == "__main__":
    app.run()
