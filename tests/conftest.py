"""One local backend for the whole session, started as a real process, as learners get it."""

import io
import os
import socket
import subprocess
import sys
import time
import uuid
import zipfile
from pathlib import Path

import boto3
import pytest

from helpers import backend, cognito, identity, runtime, state
from helpers.backend import LOCAL_CREDENTIALS, running_emulator

REGION = "us-east-1"


@pytest.fixture(scope="session")
def emulator_url(tmp_path_factory) -> str:
    with running_emulator(tmp_path_factory.mktemp("emulator") / "emulator.log") as url:
        yield url


@pytest.fixture(scope="session")
def idp(emulator_url):
    return boto3.client(
        "cognito-idp", endpoint_url=emulator_url, region_name=REGION, **LOCAL_CREDENTIALS
    )


@pytest.fixture
def sdk_environment(emulator_url, monkeypatch):
    """What a learner's agent process has: endpoints, dummy credentials and a region."""
    for service in ("BEDROCK_AGENTCORE", "BEDROCK_AGENTCORE_CONTROL"):
        monkeypatch.setenv(f"AWS_ENDPOINT_URL_{service}", emulator_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", LOCAL_CREDENTIALS["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", LOCAL_CREDENTIALS["aws_secret_access_key"])
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.delenv("DOCKER_CONTAINER", raising=False)


@pytest.fixture
def workshop(emulator_url, tmp_path, monkeypatch):
    """A learner's setting: notebooks pointed at the session's backend, state in tmp_path."""
    monkeypatch.setenv("WORKSHOP_EMULATOR_URL", emulator_url)
    monkeypatch.setenv("WORKSHOP_DIR", str(tmp_path))
    return tmp_path


def start_emulator_process(env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    """``python -m emulator serve --port 0``, waited for until it prints its READY line."""
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    line = process.stdout.readline()
    assert line.startswith("READY http://127.0.0.1:"), line
    return process, line.split()[1]


def require_debian_package(found: bool, package: str) -> None:
    """Skip where a Debian package is missing, except in CI, whose .ci/run installs it."""
    if found:
        return
    if os.environ.get("CI"):
        pytest.fail(f"The Debian package {package} is missing: .ci/run must install it.")
    pytest.skip(f"needs the Debian package {package} (apt-get install {package})")


AGENTS = Path(__file__).parent / "agents"


def client(url: str, service: str, **options):
    return boto3.client(
        service, endpoint_url=url, region_name=REGION, **LOCAL_CREDENTIALS, **options
    )


def upload_agent(url: str, agent: str) -> dict[str, str]:
    """Zip ``tests/agents/<agent>.py`` as ``main.py`` into an S3 bucket; return its location."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.write(AGENTS / f"{agent}.py", "main.py")
    s3 = client(url, "s3")
    bucket = f"test-agents-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key=f"{agent}.zip", Body=archive.getvalue())
    return {"bucket": bucket, "prefix": f"{agent}.zip"}


def create_runtime(url: str, code: dict[str, str], **config) -> dict:
    """CreateAgentRuntime for a code deployment, then wait until it settles."""
    control = client(url, "bedrock-agentcore-control")
    created = control.create_agent_runtime(
        agentRuntimeName=f"test_{uuid.uuid4().hex[:10]}",
        agentRuntimeArtifact={
            "codeConfiguration": {
                "code": {"s3": code},
                "runtime": "PYTHON_3_11",
                "entryPoint": ["main.py"],
            }
        },
        roleArn="arn:aws:iam::123456789012:role/test-runtime",
        networkConfiguration={"networkMode": "PUBLIC"},
        **config,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        runtime = control.get_agent_runtime(agentRuntimeId=created["agentRuntimeId"])
        if runtime["status"] not in ("CREATING", "UPDATING"):
            return runtime
        time.sleep(0.1)
    raise AssertionError(f"{created['agentRuntimeId']} did not settle")


def pool_with_user(url: str, **client_config) -> dict:
    """A user pool, an app client allowing USER_PASSWORD_AUTH, and a signed-in user."""
    cognito = client(url, "cognito-idp")
    pool = cognito.create_user_pool(PoolName=f"pool-{uuid.uuid4().hex[:8]}")["UserPool"]["Id"]
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool,
        ClientName="c",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"],
        **client_config,
    )["UserPoolClient"]["ClientId"]
    cognito.admin_create_user(UserPoolId=pool, Username="alice")
    cognito.admin_set_user_password(
        UserPoolId=pool, Username="alice", Password="Passw0rd!=*", Permanent=True
    )
    tokens = cognito.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "alice", "PASSWORD": "Passw0rd!=*"},
    )["AuthenticationResult"]
    return {
        "id": pool,
        "client_id": client_id,
        "discovery_url": f"{url}/{pool}/.well-known/openid-configuration",
        "access_token": tokens["AccessToken"],
        "id_token": tokens["IdToken"],
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def deploy_agent(be, ws, pools, provider, source: Path = runtime.AGENT_DIR):
    """What 06_launch does: role, package, upload, deploy, wait for READY."""
    role = runtime.execution_role(be, ws, provider)
    archive = runtime.package(be, source, ws.path.parent / "build" / "agent.zip")
    created = runtime.deploy(
        be,
        ws,
        role_arn=role["arn"],
        code=runtime.upload(be, ws, archive),
        authorizer=runtime.jwt_authorizer(pools.runtime),
        environment=runtime.agent_environment(provider, ws),
    )
    return runtime.wait_until_ready(be, created.id)


@pytest.fixture
def deployed(workshop):
    """Notebooks 01 to 06 in a few lines: pools, provider, the agent on the local runtime."""
    be = backend.connect("local", "us-east-1")
    ws = state.load(be)
    pools = cognito.setup(be, ws)
    provider = identity.create_credential_provider(be, ws, pools)
    agent = deploy_agent(be, ws, pools, provider)
    binding_url = identity.session_binding_url(ws)
    identity.set_return_urls(be, agent.workload_identity, add=(binding_url,))
    return be, ws, pools, agent, binding_url


def listed(service_client, operation: str, key: str) -> list[dict]:
    """Every item of a paginated list call (a shared backend holds more than a page)."""
    pages = service_client.get_paginator(operation).paginate()
    return [item for page in pages for item in page[key]]
