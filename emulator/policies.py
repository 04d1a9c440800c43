"""IAM for what a deployed agent does with its execution role, evaluated as AWS evaluates it.

On AWS an agent runs with credentials of its runtime's execution role, and every call it
makes is checked against that role's identity policies: a policy naming the wrong ARN
fails only there, on the learner's first run. Here the local runtime gives each agent
credentials of its role too (`role_credentials`: moto's STS AssumeRole, so the access key
names the role), and the handlers of the calls an agent makes with them (AgentCore
Identity's tokens and API keys, Bedrock's model calls, and the PassRole behind
CreateAgentRuntime for a caller who is a role) ask `authorize`, which evaluates the role's
inline and attached policies as IAM does (`emulator.iam.decision`, which 00's policy
simulation uses too) against the resource ARNs IAM uses, and refuses in AWS's words.

Calls signed with any other credentials (the learner's, the tests' "testing" keys) are not
evaluated: the local backend trusts them, as before.
"""

import re
import uuid
from collections.abc import Iterable, Mapping

from moto.iam.access_control import AssumedRoleAccessKey, CreateAccessKeyFailure
from moto.iam.exceptions import NotFoundException
from moto.iam.models import get_account_id_from
from moto.sts.models import sts_backends
from moto.utilities.utils import get_partition
from werkzeug.wrappers import Request

from emulator import iam
from emulator.exceptions import AccessDeniedException
from emulator.wsgi import SIGV4, WSGIApp

# AgentCore Runtime's longest session (maxLifetime, 8 h): an agent never outlives its keys.
SESSION_SECONDS = 28800
SECURITY_TOKEN = "X-Amz-Security-Token"
# Bedrock Runtime's model calls, and the IAM action each needs (Converse is InvokeModel).
MODEL_CALL = re.compile(
    r"^/model/(?P<model>[^/]+)/"
    r"(?P<operation>invoke|invoke-with-response-stream|converse|converse-stream)$"
)
MODEL_ACTIONS = {
    "invoke": "bedrock:InvokeModel",
    "converse": "bedrock:InvokeModel",
    "invoke-with-response-stream": "bedrock:InvokeModelWithResponseStream",
    "converse-stream": "bedrock:InvokeModelWithResponseStream",
}
# The prefixes of Bedrock's cross-region inference profiles ("us.anthropic.…").
GEOGRAPHIES = frozenset({"us", "us-gov", "eu", "apac", "jp", "au", "ca", "global"})


def role_credentials(account: str, region: str, role_arn: str) -> dict[str, str]:
    """Environment variables holding a new session of ``role_arn``, as an agent's are.

    The session name is ours: AWS does not document the one AgentCore Runtime uses.
    """
    session = sts_backends[account][get_partition(region)].assume_role(
        region_name=region,
        role_session_name=f"BedrockAgentCore-{uuid.uuid4().hex[:12]}",
        role_arn=role_arn,
        policy=None,
        duration=SESSION_SECONDS,
        external_id=None,
    )
    return {
        "AWS_ACCESS_KEY_ID": session.access_key_id,
        "AWS_SECRET_ACCESS_KEY": session.secret_access_key,
        "AWS_SESSION_TOKEN": session.session_token,
    }


def _role_session(headers: Mapping[str, str]) -> AssumedRoleAccessKey | None:
    """The role session a request is signed with; None for any other caller."""
    signed = SIGV4.search(headers.get("Authorization", ""))
    if signed is None or SECURITY_TOKEN not in headers:
        return None
    key, region = signed["key"], signed["region"]
    try:
        return AssumedRoleAccessKey(get_account_id_from(key), get_partition(region), key, headers)
    except CreateAccessKeyFailure:  # not a session moto's STS handed out
        return None


def authorize(
    headers: Mapping[str, str],
    action: str,
    resources: Iterable[str],
    context: dict[str, str] | None = None,
) -> None:
    """Refuse, as AWS does, a role session whose policies do not allow ``action`` on every
    one of ``resources``; let any other caller through. ``context``: condition keys."""
    session = _role_session(headers)
    if session is None:
        return
    try:
        documents = [iam.document(policy) for policy in session.collect_policies()]
    except NotFoundException:  # the role is gone: nothing allows anything
        documents = []
    keys = {key.lower(): value for key, value in (context or {}).items()}
    for resource in resources:
        decision = iam.decision(documents, action, resource, keys)
        if decision == "allowed":
            continue
        reason = (
            "with an explicit deny in an identity-based policy"
            if decision == "explicitDeny"
            else f"because no identity-based policy allows the {action} action"
        )
        raise AccessDeniedException(
            f"User: {session.arn} is not authorized to perform: {action} "
            f"on resource: {resource} {reason}"
        )


def model_resources(model_id: str, account: str, region: str) -> list[str]:
    """What IAM checks a model call against: an inference profile and the foundation model
    it routes to (in this region, one of its destinations), or the foundation model alone."""
    if model_id.startswith("arn:"):
        kind, _, name = model_id.split(":", 5)[-1].partition("/")
        if kind != "inference-profile":
            return [model_id]
        return [model_id, *model_resources(name, account, region)[1:]]
    geography, _, model = model_id.partition(".")
    foundation = f"arn:aws:bedrock:{region}::foundation-model/"
    if geography in GEOGRAPHIES and "." in model:
        profile = f"arn:aws:bedrock:{region}:{account}:inference-profile/{model_id}"
        return [profile, foundation + model]
    return [foundation + model_id]


def guard_model_calls(app: WSGIApp) -> WSGIApp:
    """``app`` behind IAM for Bedrock's model calls (InvokeModel, Converse and their
    streams), whoever serves them: the stand-in for Converse, moto for InvokeModel."""

    def guarded(environ: dict, start_response):
        call = MODEL_CALL.match(environ.get("PATH_INFO", ""))
        signed = SIGV4.search(environ.get("HTTP_AUTHORIZATION", ""))
        if call and signed and signed["service"] == "bedrock":
            headers = Request(environ).headers
            account = get_account_id_from(signed["key"])
            resources = model_resources(call["model"], account, signed["region"])
            authorize(headers, MODEL_ACTIONS[call["operation"]], resources)
        return app(environ, start_response)

    return guarded
