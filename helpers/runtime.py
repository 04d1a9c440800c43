"""Quickstart steps 4, 7 and 8: the JWT authorizer, deploying to AgentCore Runtime, invoking.

Deployment is the direct-code path: a zip of ``agent/`` in S3 (``codeConfiguration``),
run by AgentCore Runtime with an execution role that may do exactly what the agent needs.
Invoking uses plain HTTPS with the user's bearer token, because boto3 can only sign with
SigV4, and a JWT-protected runtime refuses SigV4.
"""

import hashlib
import json
import shutil
import subprocess
import sys
import time
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jwt
import requests
from botocore.exceptions import ClientError

from helpers import tokens
from helpers.backend import Backend
from helpers.cognito import Pool
from helpers.errors import WorkshopError, explain
from helpers.identity import CredentialProvider, session_binding_url
from helpers.paths import workshop_dir
from helpers.state import WorkshopState
from helpers.waiting import wait_until

AGENT_DIR = Path(__file__).resolve().parent.parent / "agent"
ENTRY_POINT = "agent.py"
PYTHON_RUNTIME = "PYTHON_3_11"
MODEL_ID = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
CROSS_REGION_PREFIXES = ("us", "eu", "apac", "global")
# Never deployed: workshop state, credentials, local-development and build leftovers.
EXCLUDED = (".agentcore*", ".env", "*.env", ".workshop", ".bedrock_agentcore.yaml", "__pycache__")
EXCLUDED_SUFFIXES = (".pyc",)
SESSION_HEADER = "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id"
ROLE_PROPAGATION = 120  # seconds a new IAM role may take before AgentCore can assume it


@dataclass(frozen=True)
class Runtime:
    id: str
    arn: str
    name: str
    status: str
    version: str
    workload_identity: str
    failure_reason: str | None = None

    def rows(self) -> dict[str, Any]:
        return {
            "Name": self.name,
            "ARN": self.arn,
            "Version": self.version,
            "Status": self.status,
            "Its workload identity": self.workload_identity,
        }


def runtime_name(state: WorkshopState) -> str:
    return f"identity_demo_agent_{state.suffix}"


def new_session_id() -> str:
    """A runtime session id: AgentCore wants at least 33 characters; a UUID has 36."""
    return str(uuid.uuid4())


# Step 4: the inbound JWT authorizer


def jwt_authorizer(pool: Pool) -> dict[str, Any]:
    """Let in only access tokens issued by the runtime pool to its app client."""
    return {
        "customJWTAuthorizer": {
            "discoveryUrl": pool.discovery_url,
            "allowedClients": [pool.client_id],
        }
    }


def authorizer_checks(authorizer: dict[str, Any], token: str) -> list[dict[str, str]]:
    """What the JWT authorizer will check of ``token``, one row per check, with the verdict."""
    config = authorizer["customJWTAuthorizer"]
    document = tokens.discover(config["discoveryUrl"])
    claims = jwt.decode(token, options={"verify_signature": False})
    key_id = jwt.get_unverified_header(token).get("kid")
    try:
        tokens.verify(token, config["discoveryUrl"])
        verified = "yes"
    except WorkshopError:
        verified = "no"
    rows = [
        {
            "Check": "signature (a key of jwks_uri) and expiry",
            "Token has": f"kid {key_id}, exp {claims.get('exp')}",
            "Authorizer wants": document["jwks_uri"],
            "Passes": verified,
        },
        _claim_row("iss", claims.get("iss"), [document["issuer"]]),
    ]
    if "allowedClients" in config:
        rows.append(_claim_row("client_id", claims.get("client_id"), config["allowedClients"]))
    if "allowedAudience" in config:
        rows.append(_claim_row("aud", claims.get("aud"), config["allowedAudience"]))
    if "allowedScopes" in config:
        scopes = claims.get("scope", "").split()
        passes = bool(set(scopes) & set(config["allowedScopes"]))
        rows.append(_claim_row("scope", " ".join(scopes), config["allowedScopes"], passes))
    return rows


def _claim_row(claim: str, value: Any, allowed: list[str], passes: bool | None = None) -> dict:
    passes = value in allowed if passes is None else passes
    return {
        "Check": f"claim {claim}",
        "Token has": "(missing)" if value is None else str(value),
        "Authorizer wants": ", ".join(allowed),
        "Passes": "yes" if passes else "no",
    }


# Step 7: execution role, package, deploy


def agent_environment(provider: CredentialProvider, state: WorkshopState) -> dict[str, str]:
    """What agent/agent.py reads from its environment on AgentCore Runtime."""
    return {
        "MODEL_ID": MODEL_ID,
        "CREDENTIAL_PROVIDER_NAME": provider.name,
        "CALLBACK_URL": session_binding_url(state),
    }


def _policy(backend: Backend, state: WorkshopState, provider: CredentialProvider) -> dict:
    """Least privilege: logs, traces, this model, and Identity for this workshop's agent only."""
    where = f"{backend.region}:{backend.account}"
    geography, _, model = MODEL_ID.partition(".")  # a cross-region profile: "us." + the model
    model = model if geography in CROSS_REGION_PREFIXES else MODEL_ID
    directory = f"arn:aws:bedrock-agentcore:{where}:workload-identity-directory/default"
    workloads = [directory, f"{directory}/workload-identity/{runtime_name(state)}-*"]
    token_vault = provider.arn.split("/oauth2credentialprovider/")[0]
    logs = f"arn:aws:logs:{where}:log-group:/aws/bedrock-agentcore/runtimes/*"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Logs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": [logs, f"{logs}:log-stream:*"],
            },
            {
                "Sid": "Traces",
                "Effect": "Allow",
                "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
                "Resource": "*",  # X-Ray has no resource-level permissions
            },
            {
                "Sid": "Model",
                "Effect": "Allow",
                "Action": ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"],
                "Resource": [
                    f"arn:aws:bedrock:*::foundation-model/{model}",
                    f"arn:aws:bedrock:{where}:inference-profile/{MODEL_ID}",
                ],
            },
            {
                "Sid": "WorkloadAccessTokens",
                "Effect": "Allow",
                "Action": [
                    "bedrock-agentcore:GetWorkloadAccessToken",
                    "bedrock-agentcore:GetWorkloadAccessTokenForJWT",
                    "bedrock-agentcore:GetWorkloadAccessTokenForUserId",
                ],
                "Resource": workloads,
            },
            {
                "Sid": "UserTokens",
                "Effect": "Allow",
                "Action": ["bedrock-agentcore:GetResourceOauth2Token"],
                "Resource": [*workloads, token_vault, provider.arn],
            },
            {
                "Sid": "ProviderSecret",
                "Effect": "Allow",
                "Action": ["secretsmanager:GetSecretValue"],
                "Resource": [provider.secret_arn],
            },
        ],
    }


def _trust_policy(backend: Backend) -> dict:
    account = backend.account
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "bedrock-agentcore.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account},
                    "ArnLike": {
                        "aws:SourceArn": f"arn:aws:bedrock-agentcore:{backend.region}:{account}:*"
                    },
                },
            }
        ],
    }


def execution_role(
    backend: Backend, state: WorkshopState, provider: CredentialProvider
) -> dict[str, Any]:
    """The role AgentCore Runtime assumes to run the agent; returns its ARN and policy."""
    iam = backend.client("iam")
    name = f"AgentCoreWorkshopRuntime-{state.suffix}"
    if state.get("execution_role") is None:
        with explain(f"Creating the execution role {name}"):
            iam.create_role(
                RoleName=name,
                AssumeRolePolicyDocument=json.dumps(_trust_policy(backend)),
                Description="Runs the AgentCore Identity workshop's agent",
            )
        state.record("execution_role", "iam-role", name=name)
    policy = _policy(backend, state, provider)
    with explain(f"Granting {name} what the agent needs"):
        iam.put_role_policy(
            RoleName=name, PolicyName="AgentCoreIdentityAgent", PolicyDocument=json.dumps(policy)
        )
        arn = iam.get_role(RoleName=name)["Role"]["Arn"]
    return {"name": name, "arn": arn, "policy": policy}


def policy_rows(policy: dict[str, Any]) -> list[dict[str, str]]:
    """A policy document as a table: one row per statement."""

    def listed(value: str | list[str]) -> str:
        return ", ".join(value) if isinstance(value, list) else value

    return [
        {"Statement": s["Sid"], "Actions": listed(s["Action"]), "Resources": listed(s["Resource"])}
        for s in policy["Statement"]
    ]


def _is_excluded(relative: Path) -> bool:
    return relative.suffix in EXCLUDED_SUFFIXES or any(
        fnmatch(part, pattern) for part in relative.parts for pattern in EXCLUDED
    )


def _dependencies(requirements: Path) -> Path:
    """Wheels for AgentCore Runtime's platform, installed once per requirements file."""
    digest = hashlib.sha256(requirements.read_bytes() + PYTHON_RUNTIME.encode()).hexdigest()[:16]
    target = workshop_dir() / ".workshop" / "build" / f"dependencies-{digest}"
    if target.is_dir():
        return target
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    version = PYTHON_RUNTIME.removeprefix("PYTHON_").replace("_", ".")
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--platform",
        "manylinux2014_aarch64",
        "--implementation",
        "cp",
        "--python-version",
        version,
        "--only-binary=:all:",
        "--target",
        str(partial),
        "-r",
        str(requirements),
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise WorkshopError(f"Installing the agent's dependencies failed:\n{result.stderr[-2000:]}")
    partial.rename(target)
    return target


def package(backend: Backend, source: Path = AGENT_DIR, out: Path | None = None) -> Path:
    """The deployment zip: the agent's files, plus (on AWS) its dependencies at the root."""
    out = out or workshop_dir() / ".workshop" / "build" / "agent.zip"
    out.parent.mkdir(parents=True, exist_ok=True)
    roots = [source]
    if backend.bundles_dependencies:
        roots.insert(0, _dependencies(source / "requirements.txt"))
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for root in roots:
            for path in sorted(root.rglob("*")):
                relative = path.relative_to(root)
                if path.is_file() and not _is_excluded(relative):
                    archive.write(path, relative.as_posix())
    return out


def contents(archive: Path) -> list[str]:
    with zipfile.ZipFile(archive) as opened:
        return opened.namelist()


def upload(backend: Backend, state: WorkshopState, archive: Path) -> dict[str, str]:
    """Put the zip in the workshop's own bucket; return the S3 location for the runtime."""
    s3 = backend.client("s3")
    bucket = f"agentcore-workshop-{backend.account}-{state.suffix}"
    if state.get("code_bucket") is None:
        location = (
            {}
            if backend.region == "us-east-1"
            else {"CreateBucketConfiguration": {"LocationConstraint": backend.region}}
        )
        with explain(f"Creating the S3 bucket {bucket}"):
            s3.create_bucket(Bucket=bucket, **location)
        state.record("code_bucket", "s3-bucket", name=bucket)
    key = f"{runtime_name(state)}/agent.zip"
    with explain(f"Uploading the agent to s3://{bucket}/{key}"):
        s3.upload_file(str(archive), bucket, key)
    return {"bucket": bucket, "prefix": key}


def _runtime(answer: dict[str, Any]) -> Runtime:
    return Runtime(
        id=answer["agentRuntimeId"],
        arn=answer["agentRuntimeArn"],
        name=answer.get("agentRuntimeName", answer["agentRuntimeId"].rsplit("-", 1)[0]),
        status=answer["status"],
        version=answer["agentRuntimeVersion"],
        workload_identity=answer["workloadIdentityDetails"]["workloadIdentityArn"].rsplit("/", 1)[
            1
        ],
        failure_reason=answer.get("failureReason"),
    )


def get(backend: Backend, runtime_id: str) -> Runtime:
    with explain(f"Reading the agent runtime {runtime_id}"):
        return _runtime(
            backend.client("bedrock-agentcore-control").get_agent_runtime(agentRuntimeId=runtime_id)
        )


def recorded(backend: Backend, state: WorkshopState) -> Runtime:
    """The runtime 06_launch deployed, as AgentCore Runtime reports it now."""
    entry = state.get("agent_runtime")
    if entry is None:
        raise WorkshopError("The workshop has not deployed the agent yet: run 06_launch.")
    return get(backend, entry["id"])


def deploy(
    backend: Backend,
    state: WorkshopState,
    *,
    role_arn: str,
    code: dict[str, str],
    authorizer: dict[str, Any],
    environment: dict[str, str],
) -> Runtime:
    """Create the runtime, or update it to a new version if the workshop already has one."""
    control = backend.client("bedrock-agentcore-control")
    config = {
        "agentRuntimeArtifact": {
            "codeConfiguration": {
                "code": {"s3": code},
                "runtime": PYTHON_RUNTIME,
                "entryPoint": [ENTRY_POINT],
            }
        },
        "roleArn": role_arn,
        "networkConfiguration": {"networkMode": "PUBLIC"},
        "protocolConfiguration": {"serverProtocol": "HTTP"},
        "authorizerConfiguration": authorizer,
        "environmentVariables": environment,
    }
    existing = state.get("agent_runtime")

    def call() -> dict[str, Any]:
        if existing:
            return control.update_agent_runtime(agentRuntimeId=existing["id"], **config)
        return control.create_agent_runtime(agentRuntimeName=runtime_name(state), **config)

    answer = _retry_while_role_propagates(call, "Deploying the agent")
    if not existing:
        state.record("agent_runtime", "agent-runtime", id=answer["agentRuntimeId"])
    return get(backend, answer["agentRuntimeId"])


def _retry_while_role_propagates(call: Callable[[], dict], action: str) -> dict:
    """A new IAM role takes a while to be assumable; AgentCore says so as a ValidationException."""
    deadline = time.monotonic() + ROLE_PROPAGATION
    while True:
        try:
            with explain(action):
                return call()
        except WorkshopError as error:
            cause = error.__cause__
            propagating = (
                isinstance(cause, ClientError)
                and "role" in str(cause).lower()
                and (
                    cause.response["Error"]["Code"]
                    in ("ValidationException", "AccessDeniedException")
                )
            )
            if not propagating or time.monotonic() > deadline:
                raise
            time.sleep(5)


def wait_until_ready(
    backend: Backend, runtime_id: str, on_progress: Callable[[float], None] | None = None
) -> Runtime:
    def settled() -> Runtime | None:
        runtime = get(backend, runtime_id)
        return None if runtime.status in ("CREATING", "UPDATING") else runtime

    runtime = wait_until(settled, f"the agent runtime {runtime_id}", 900, 0.2, 5, on_progress)
    if runtime.status != "READY":
        raise WorkshopError(
            f"The agent runtime is {runtime.status}: {runtime.failure_reason}\n"
            "Fix agent/agent.py and run the deploy cell again."
        )
    return runtime


def logs(backend: Backend, runtime_id: str, limit: int = 50) -> list[str]:
    """The agent's newest log lines (CloudWatch Logs, where AgentCore Runtime writes them)."""
    group = f"/aws/bedrock-agentcore/runtimes/{runtime_id}-DEFAULT"
    try:
        events = backend.client("logs").filter_log_events(logGroupName=group)["events"]
    except ClientError as error:
        if error.response["Error"]["Code"] == "ResourceNotFoundException":
            return []
        raise WorkshopError(f"Reading the agent's log failed: {error}") from error
    return [event["message"] for event in events[-limit:]]


# Step 8: invoke with a bearer token


def invoke(
    backend: Backend, runtime_arn: str, bearer_token: str, session_id: str, payload: dict
) -> Any:
    """Call the agent as its user does: bearer token, session id, JSON in; JSON or SSE out."""
    endpoint = backend.client("bedrock-agentcore").meta.endpoint_url
    url = f"{endpoint}/runtimes/{quote(runtime_arn, safe='')}/invocations"
    headers = {
        "Authorization": f"Bearer {bearer_token}",
        SESSION_HEADER: session_id,
        "Content-Type": "application/json",
        "Accept": "text/event-stream, application/json",
    }
    try:
        answer = requests.post(
            url, params={"qualifier": "DEFAULT"}, headers=headers, json=payload, timeout=900
        )
    except requests.RequestException as error:
        raise WorkshopError(f"Could not reach AgentCore Runtime at {endpoint}: {error}") from error
    if answer.status_code >= 400:
        raise WorkshopError(_explain_refusal(answer))
    if "text/event-stream" in answer.headers.get("Content-Type", ""):
        return [
            json.loads(line.removeprefix("data: "))
            for line in answer.text.splitlines()
            if line.startswith("data: ")
        ]
    return answer.json()


def _explain_refusal(answer: requests.Response) -> str:
    try:
        message = answer.json().get("message", answer.text)
    except ValueError:
        message = answer.text
    hints = {
        401: "The runtime's JWT authorizer refused the bearer token. Get a fresh one "
        "(cognito.bearer_token; they expire after an hour) from the runtime pool's client.",
        403: "The runtime takes bearer tokens only (it has a JWT authorizer), or SigV4 only.",
        404: "No such runtime: deploy it first (06_launch).",
        424: "The agent itself failed: read its log with runtime.logs(...).",
    }
    hint = hints.get(answer.status_code, "")
    return f"AgentCore Runtime answered {answer.status_code}: {message} {hint}".strip()
