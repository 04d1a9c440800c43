"""What the tests share that is not a fixture: clients, factories, deploys, forgeries.

Fixtures live in ``conftest.py``; everything a test module imports comes from here, so
any single test file collects on its own.
"""

import base64
import functools
import glob
import io
import json
import os
import subprocess
import sys
import time
import uuid
import zipfile
from pathlib import Path
from urllib.parse import quote

import boto3
import jwt
import nbformat
import pytest
import requests
from bedrock_agentcore.runtime.models import SESSION_HEADER
from botocore.exceptions import ClientError
from moto.utilities.utils import load_resource

from helpers import (
    authorizer,
    cognito,
    credential_provider,
    execution_role,
    model,
    packaging,
    runtime,
    settings,
    state,
    workload_identity,
    workshop,
)
from helpers.backend import LOCAL, LOCAL_CREDENTIALS
from helpers.paths import AGENT_DIR, NOTEBOOKS

REGION = "us-east-1"
# The notebooks in order; the steps (all but the cleanup, which the runner adds at the end).
ORDER = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
CLEANUP = NOTEBOOKS / "13_cleanup.ipynb"
STEPS = [path for path in ORDER if path != CLEANUP]
# What a workshop writes on the learner's machine: cleanup removes all of it.
LOCAL_FILES = (".agentcore_identity_user.env", ".agentcore.json", ".workshop/state.json")
AGENTS = Path(__file__).parent / "agents"


def client(url: str, service: str, **options):
    """A real boto3 client for ``service`` on the local backend at ``url`` (``options`` may
    name another region or other credentials): one per test process, as the helpers keep
    one per backend and service (making one takes milliseconds, hundreds of times)."""
    return _client(url, service, tuple(sorted(options.items())))


@functools.cache
def _client(url: str, service: str, options: tuple):
    defaults = {"endpoint_url": url, "region_name": REGION, **LOCAL_CREDENTIALS}
    return boto3.client(service, **{**defaults, **dict(options)})


def error_of(error: pytest.ExceptionInfo[ClientError] | ClientError) -> tuple[str, int]:
    """The AWS error code and HTTP status botocore read from an error answer."""
    response = (error.value if isinstance(error, pytest.ExceptionInfo) else error).response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def http_error_of(answer: requests.Response) -> tuple[int, str, str]:
    """Status, ``x-amzn-ErrorType`` and message of an AWS error answered over plain HTTP."""
    return answer.status_code, answer.headers.get("x-amzn-ErrorType", ""), answer.json()["message"]


def listed(service_client, operation: str, key: str) -> list[dict]:
    """Every item of a paginated list call (a shared backend holds more than a page)."""
    pages = service_client.get_paginator(operation).paginate()
    return [item for page in pages for item in page[key]]


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


def run_notebooks(*args: str | Path) -> subprocess.CompletedProcess:
    """``python -m helpers.cli.runner`` with ``args``, as `make run` runs it."""
    return subprocess.run(
        [sys.executable, "-m", "helpers.cli.runner", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=900,
    )


def inventory(url: str) -> dict[str, list[str]]:
    """Everything of the workshop's kinds that the backend holds, by list calls."""
    cognito = client(url, "cognito-idp")
    control = client(url, "bedrock-agentcore-control")
    pools = cognito.list_user_pools(MaxResults=60)["UserPools"]
    return {
        "pools": sorted(pool["Name"] for pool in pools),
        "clients": sorted(
            c["ClientId"]
            for pool in pools
            for c in cognito.list_user_pool_clients(UserPoolId=pool["Id"])["UserPoolClients"]
        ),
        "providers": sorted(
            p["name"]
            for p in listed(control, "list_oauth2_credential_providers", "credentialProviders")
        ),
        "api key providers": sorted(
            p["name"]
            for p in listed(control, "list_api_key_credential_providers", "credentialProviders")
        ),
        "resource servers": sorted(
            server["Identifier"]
            for pool in pools
            for server in cognito.list_resource_servers(UserPoolId=pool["Id"], MaxResults=50)[
                "ResourceServers"
            ]
        ),
        "workloads": sorted(
            w["name"] for w in listed(control, "list_workload_identities", "workloadIdentities")
        ),
        "runtimes": sorted(
            r["agentRuntimeName"] for r in listed(control, "list_agent_runtimes", "agentRuntimes")
        ),
        "roles": sorted(r["RoleName"] for r in client(url, "iam").list_roles()["Roles"]),
        "buckets": sorted(b["Name"] for b in client(url, "s3").list_buckets()["Buckets"]),
        "secrets": sorted(
            s["Name"] for s in client(url, "secretsmanager").list_secrets()["SecretList"]
        ),
        "runtime log groups": sorted(
            g["logGroupName"]
            for g in listed(client(url, "logs"), "describe_log_groups", "logGroups")
            if g["logGroupName"].startswith("/aws/bedrock-agentcore/runtimes/")
        ),
    }


def nothing(found: dict[str, list[str]]) -> bool:
    return not any(found.values())


def outputs(path: Path) -> str:
    """Everything an executed notebook shows, as one text."""
    notebook = nbformat.read(path, as_version=4)
    return json.dumps([cell.get("outputs", []) for cell in notebook.cells], ensure_ascii=False)


LIBFAKETIME = sorted(glob.glob("/usr/lib/*/faketime/libfaketimeMT.so.1"))


def require_debian_package(found: bool, package: str) -> None:
    """Skip where a Debian package is missing, except in CI, whose .ci/run installs it."""
    if found:
        return
    if os.environ.get("CI"):
        pytest.fail(f"The Debian package {package} is missing: .ci/run must install it.")
    pytest.skip(f"needs the Debian package {package} (apt-get install {package})")


def machine_client(cognito, pool_id: str, scopes: list[str]) -> dict:
    """An app client with a secret and the client-credentials grant, allowed ``scopes``."""
    return cognito.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="machine",
        GenerateSecret=True,
        AllowedOAuthFlows=["client_credentials"],
        AllowedOAuthScopes=scopes,
        AllowedOAuthFlowsUserPoolClient=True,
    )["UserPoolClient"]


def web_client(cognito, pool_id: str, callback: str) -> dict:
    """A confidential app client for the hosted UI's authorization-code flow."""
    return cognito.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="web",
        GenerateSecret=True,
        CallbackURLs=[callback],
        AllowedOAuthFlows=["code"],
        AllowedOAuthScopes=["openid", "profile", "email"],
        AllowedOAuthFlowsUserPoolClient=True,
        SupportedIdentityProviders=["COGNITO"],
    )["UserPoolClient"]


def process_alive(pid: int) -> bool:
    """Is ``pid`` running? A zombie has exited, only not been reaped."""
    try:
        os.kill(pid, 0)
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[1][0] != "Z"
    except (ProcessLookupError, FileNotFoundError):  # gone, or reaped while we looked
        return False


def custom_provider(url: str, discovery_url: str, app_client: dict, prefix: str) -> dict:
    """A CustomOauth2 credential provider (a fresh name) for ``app_client``; AWS's answer."""
    return client(url, "bedrock-agentcore-control").create_oauth2_credential_provider(
        name=f"{prefix}-{uuid.uuid4().hex[:8]}",
        credentialProviderVendor="CustomOauth2",
        oauth2ProviderConfigInput={
            "customOauth2ProviderConfig": {
                "oauthDiscovery": {"discoveryUrl": discovery_url},
                "clientId": app_client["ClientId"],
                "clientSecret": app_client["ClientSecret"],
            }
        },
    )


def hosted_ui_provider(url: str, prefix: str, scopes: list[str]) -> tuple[str, dict, dict]:
    """The quickstart's outbound side: a pool with a hosted UI whose app client is a
    CustomOauth2 provider's, the provider's callback registered and the code grant allowed.
    The pool's id, its app client and the provider (AWS's answer)."""
    cognito = client(url, "cognito-idp")
    pool_id = cognito.create_user_pool(PoolName="external")["UserPool"]["Id"]
    cognito.create_user_pool_domain(Domain=f"ext-{uuid.uuid4().hex[:8]}", UserPoolId=pool_id)
    app_client = cognito.create_user_pool_client(
        UserPoolId=pool_id, ClientName="agentcore", GenerateSecret=True
    )["UserPoolClient"]
    discovery = f"{url}/{pool_id}/.well-known/openid-configuration"
    provider = custom_provider(url, discovery, app_client, prefix)
    cognito.update_user_pool_client(
        UserPoolId=pool_id,
        ClientId=app_client["ClientId"],
        ClientName="agentcore",
        CallbackURLs=[provider["callbackUrl"]],
        AllowedOAuthFlows=["code"],
        AllowedOAuthScopes=scopes,
        AllowedOAuthFlowsUserPoolClient=True,
        SupportedIdentityProviders=["COGNITO"],
    )
    return pool_id, app_client, provider


def workload_returning_to(url: str, return_url: str) -> str:
    """A workload identity (a fresh name) that allows ``return_url``; its name."""
    return client(url, "bedrock-agentcore-control").create_workload_identity(
        name=f"wl-{uuid.uuid4().hex[:8]}", allowedResourceOauth2ReturnUrls=[return_url]
    )["name"]


# Browser tests: Debian's Chromium, driven by Playwright.
# Chromium's headless shell: the same engine as the browser (Blink, V8), without the
# browser's own machinery; Playwright's default for headless runs. A third of the CPU.
CHROMIUM = Path("/usr/bin/chromium-headless-shell")
ARTIFACTS = Path(
    os.environ.get("TEST_ARTIFACTS", Path(__file__).parent.parent / "runs" / "test-artifacts")
)
# Flags for a machine with no network beyond loopback, as root, without a display.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# Cognito


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


def quickstart_authorizer(pool: dict) -> dict:
    """The quickstart's authorizer: the pool's discovery URL, its app client allowed."""
    authorizer = {"discoveryUrl": pool["discovery_url"], "allowedClients": [pool["client_id"]]}
    return {"customJWTAuthorizer": authorizer}


# Forged tokens: what a relying party must refuse


def signed_with_motos_published_key(token: str) -> str:
    """The same claims, signed with the private key that ships inside moto."""
    claims = jwt.decode(token, options={"verify_signature": False})
    key = jwt.PyJWK(load_resource("cognitoidp/resources/jwks-private.json"))
    return jwt.encode(claims, key.key, algorithm="RS256", headers={"kid": "dummy"})


def with_tampered_payload(token: str) -> str:
    """The original signature over claims that name someone else."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "someone-else"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"{header}.{forged}.{signature}"


def from_an_unknown_issuer(token: str) -> str:
    claims = jwt.decode(token, options={"verify_signature": False})
    claims["iss"] = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_elsewhere"
    return jwt.encode(claims, "not-a-pool-key-but-long-enough-for-hmac", algorithm="HS256")


# AgentCore Runtime


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


def code_artifact(code: dict[str, str]) -> dict:
    """A code deployment of the zip at ``code`` (bucket, prefix), entry point main.py."""
    return {
        "codeConfiguration": {
            "code": {"s3": code},
            "runtime": "PYTHON_3_11",
            "entryPoint": ["main.py"],
        }
    }


def create_runtime(url: str, code: dict[str, str], **config) -> dict:
    """CreateAgentRuntime for a code deployment, then wait until it settles."""
    control = client(url, "bedrock-agentcore-control")
    created = control.create_agent_runtime(
        agentRuntimeName=f"test_{uuid.uuid4().hex[:10]}",
        agentRuntimeArtifact=code_artifact(code),
        roleArn="arn:aws:iam::123456789012:role/test-runtime",
        networkConfiguration={"networkMode": "PUBLIC"},
        **config,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = control.get_agent_runtime(agentRuntimeId=created["agentRuntimeId"])
        if found["status"] not in ("CREATING", "UPDATING"):
            return found
        time.sleep(0.1)
    raise AssertionError(f"{created['agentRuntimeId']} did not settle")


def invoke_with_bearer(
    url: str, agent_runtime: dict, payload: dict, *, token: str | None, session: str | None = None
) -> requests.Response:
    """InvokeAgentRuntime over plain HTTP, as a caller with a bearer token (or none)."""
    headers = {SESSION_HEADER: session or str(uuid.uuid4()), "Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    arn = quote(agent_runtime["agentRuntimeArn"], safe="")
    return requests.post(
        f"{url}/runtimes/{arn}/invocations",
        params={"qualifier": "DEFAULT"},
        headers=headers,
        json=payload,
        timeout=30,
    )


def deploy_agent(be, ws, pools, provider, source: Path = AGENT_DIR):
    """What 06_launch does: role, package, upload, deploy, wait for READY."""
    model_id = model.model_id(be.region)
    role = execution_role.ensure_execution_role(be, ws, provider, model_id)
    archive = packaging.package(be, source, ws.path.parent / "build" / "agent.zip")
    created = runtime.ensure_runtime(
        be,
        ws,
        role_arn=role.arn,
        code=packaging.upload(be, ws, archive),
        authorizer=authorizer.jwt_authorizer(pools.runtime),
        environment=runtime.agent_environment(provider, ws, model_id),
    )
    return runtime.wait_until_ready(be, created.id)


def launched(be, ws, pools, provider):
    """All that 06_launch does: the agent READY, and the session-binding page a return URL
    of its workload identity. The agent, and that URL."""
    agent = deploy_agent(be, ws, pools, provider)
    binding_url = workload_identity.session_binding_url(ws)
    workload_identity.set_return_urls(be, agent.workload_identity, add=(binding_url,))
    return agent, binding_url


def workshop_made_by_helpers(url: str, folder: Path, last: str = "06") -> None:
    """What notebooks 01 to ``last`` (04, 05 or 06) leave, made by the helpers they call:
    the state, env file and local development config in ``folder``, the resources on the
    backend at ``url``. For tests of what comes after them; test_notebooks.py runs the
    notebooks themselves."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(settings.EMULATOR_URL, url)
        patch.setenv(settings.WORKSHOP_DIR, str(folder))
        be, ws = workshop.resume(LOCAL, REGION)
        pools = cognito.ensure_pools(be, ws)
        state.write_env_file(pools.env_values())
        provider = credential_provider.ensure_credential_provider(be, ws, pools)
        if last >= "05":
            workload = workload_identity.ensure_workload_identity(be, ws)
            workload_identity.write_local_dev_config(workload.name, pools.runtime.username)
        if last >= "06":
            launched(be, ws, pools, provider)


def iam_user(url: str, *statements: dict) -> tuple[str, dict[str, str]]:
    """A new IAM user whose one policy (if any) holds ``statements``: its ARN and its access
    key, as boto3 takes it (``aws_access_key_id``, ``aws_secret_access_key``)."""
    iam = client(url, "iam")
    name = f"learner-{uuid.uuid4().hex[:8]}"
    arn = iam.create_user(UserName=name)["User"]["Arn"]
    if statements:
        document = json.dumps({"Version": "2012-10-17", "Statement": list(statements)})
        iam.put_user_policy(UserName=name, PolicyName="own", PolicyDocument=document)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return arn, {
        "aws_access_key_id": key["AccessKeyId"],
        "aws_secret_access_key": key["SecretAccessKey"],
    }
