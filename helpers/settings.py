"""Every environment variable the workshop reads or sets, in one place (as moto's settings).

The workshop itself needs none of them: each has a default a learner never has to think
about. They exist for the runner, `make lab`, the tests and remote Jupyter setups.
"""

import os

from helpers.errors import WorkshopError

# Where state and credential files go (default: the repository root).
WORKSHOP_DIR = "WORKSHOP_DIR"
# A running local backend to use instead of starting one (set by `make lab` and the runner).
EMULATOR_URL = "WORKSHOP_EMULATOR_URL"
# The port of the session-binding page (default: any free port), e.g. one a remote
# Jupyter forwards to the learner's browser.
SESSION_BINDING_PORT = "SESSION_BINDING_PORT"
# A Bedrock API key: AWS-only, so never handed to the local backend.
BEDROCK_API_KEY = "AWS_BEARER_TOKEN_BEDROCK"
# The client secret of your OAuth client at a real vendor (11): never typed into a notebook.
VENDOR_CLIENT_SECRET = "VENDOR_CLIENT_SECRET"

# What agent/agent.py reads on AgentCore Runtime (set at deploy time).
AGENT_MODEL_ID = "MODEL_ID"
AGENT_CREDENTIAL_PROVIDER = "CREDENTIAL_PROVIDER_NAME"
AGENT_CALLBACK_URL = "CALLBACK_URL"
# Set for the agent's process on AgentCore Runtime: the SDK then expects every request to
# bring a workload access token, instead of minting one from `.agentcore.json`.
AGENT_IN_A_CONTAINER = "DOCKER_CONTAINER"


def workshop_dir() -> str | None:
    return os.environ.get(WORKSHOP_DIR) or None


def emulator_url() -> str | None:
    return os.environ.get(EMULATOR_URL) or None


def session_binding_port() -> int:
    value = os.environ.get(SESSION_BINDING_PORT, "0") or "0"
    if not value.isdigit() or int(value) > 65535:
        raise WorkshopError(f"{SESSION_BINDING_PORT} must be a port number, not {value!r}.")
    return int(value)
