"""Before you run on AWS: what a first run on a real account needs, checked read-only.

A fresh account most often fails the workshop on something outside it: credentials that
expired, a region without AgentCore, a model the account may not call yet, a permission
the learner lacks. Each shows up steps later, after resources exist (and bill). Here every
one is asked of AWS up front, with calls that only read, and ends in a row of a table:
what was found and, when something must change, a sentence saying what to do. A check
that AWS does not let this identity make (IAM policy simulation, reading inference
profiles) says so, and the others go on.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from helpers import model
from helpers.backend import Backend
from helpers.display import Table
from helpers.execution_role import ROLE_PREFIX

OK, FIX, UNCHECKED = "ok", "FIX", "not checked"
Clients = Callable[[str], Any]  # a boto3 client for a service name, e.g. Backend.client
AGENTCORE_SERVICE = "bedrock-agentcore.amazonaws.com"
# Where AgentCore Runtime and Identity are offered: the developer guide's "Supported AWS
# Regions" (GovCloud left out: its ARNs are of another partition, which the workshop does
# not build).
AGENTCORE_REGIONS = (
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ca-central-1",
    "sa-east-1",
    "eu-central-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-south-1",
    "eu-south-2",
    "eu-north-1",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-5",
    "ap-southeast-7",
    "ap-northeast-1",
    "ap-northeast-2",
)
REFUSED = ("AccessDenied", "AccessDeniedException")
AVAILABLE, AUTHORIZED = "AVAILABLE", "AUTHORIZED"
SUBSCRIBE = (
    "Open the model once in the Bedrock console's playground (that subscribes the account), "
    "or let the first call do it: it needs aws-marketplace:Subscribe and "
    "aws-marketplace:ViewSubscriptions, and a valid payment method on the account."
)


@dataclass(frozen=True)
class Need:
    """Permissions the workshop uses as the learner, on one resource, and how to get them."""

    what: str
    actions: tuple[str, ...]
    resource: str  # an ARN with {region} and {account}
    fix: str
    context: tuple[tuple[str, str], ...] = ()  # condition keys AWS sets on these calls


ROLES = f"{ROLE_PREFIX}*"  # every workshop role's name
ROLE = "arn:aws:iam::{account}:role/" + ROLES
NEEDS = (
    Need(
        "Cognito user pools (01)",
        (
            "cognito-idp:CreateUserPool",
            "cognito-idp:CreateUserPoolClient",
            "cognito-idp:CreateUserPoolDomain",
            "cognito-idp:AdminCreateUser",
            "cognito-idp:AdminSetUserPassword",
            "cognito-idp:UpdateUserPoolClient",
            "cognito-idp:DeleteUserPool",
        ),
        "arn:aws:cognito-idp:{region}:{account}:userpool/*",
        "Attach the AWS managed policy AmazonCognitoPowerUser (or allow these actions).",
    ),
    Need(
        "AgentCore Runtime and Identity (04-07)",
        (
            "bedrock-agentcore:CreateOauth2CredentialProvider",
            "bedrock-agentcore:CreateWorkloadIdentity",
            "bedrock-agentcore:CreateAgentRuntime",
            "bedrock-agentcore:UpdateWorkloadIdentity",
            "bedrock-agentcore:CompleteResourceTokenAuth",
            "bedrock-agentcore:DeleteAgentRuntime",
        ),
        "arn:aws:bedrock-agentcore:{region}:{account}:*",
        "Attach the AWS managed policy BedrockAgentCoreFullAccess.",
    ),
    Need(
        "the provider's client secret (04)",
        ("secretsmanager:CreateSecret", "secretsmanager:DeleteSecret"),
        "arn:aws:secretsmanager:{region}:{account}:secret:bedrock-agentcore-identity!*",
        "AgentCore Identity keeps the client secret in a secret of yours: attach "
        "BedrockAgentCoreFullAccess, which allows it.",
    ),
    Need(
        "the execution role (06)",
        ("iam:CreateRole", "iam:PutRolePolicy", "iam:GetRole", "iam:DeleteRolePolicy"),
        ROLE,
        f"Allow these IAM actions on roles named {ROLES}.",
    ),
    Need(
        "passing the execution role to AgentCore (06)",
        ("iam:PassRole",),
        ROLE,
        "BedrockAgentCoreFullAccess lets you pass only roles named *BedrockAgentCore*: the "
        f"role you pass must be named so, or allow iam:PassRole on {ROLES} "
        f"for {AGENTCORE_SERVICE}.",
        (("iam:PassedToService", AGENTCORE_SERVICE),),
    ),
    Need(
        "the deployment bucket (06)",
        ("s3:CreateBucket", "s3:DeleteBucket"),
        "arn:aws:s3:::agentcore-workshop-{account}-*",
        "Allow these S3 actions on buckets named agentcore-workshop-{account}-*.",
    ),
    Need(
        "the deployment zip (06)",
        ("s3:PutObject", "s3:GetObject", "s3:DeleteObject"),
        "arn:aws:s3:::agentcore-workshop-{account}-*/*",
        "Allow these S3 actions on the objects of buckets named agentcore-workshop-{account}-*.",
    ),
    Need(
        "the agent's log (06, 07, 13)",
        ("logs:FilterLogEvents", "logs:DeleteLogGroup"),
        "arn:aws:logs:{region}:{account}:log-group:/aws/bedrock-agentcore/runtimes/*",
        "BedrockAgentCoreFullAccess lets you read the log; 13_cleanup also deletes it: "
        "allow logs:DeleteLogGroup on /aws/bedrock-agentcore/runtimes/*.",
    ),
)


@dataclass(frozen=True)
class Check:
    name: str
    status: str
    found: str
    fix: str = ""


@dataclass(frozen=True)
class Preflight:
    """Every check, as a table when it is the last expression of a cell."""

    checks: list[Check]

    @property
    def problems(self) -> list[str]:
        """What must change before the workshop can run, one sentence a problem."""
        return [f"{c.name}: {c.fix}" for c in self.checks if c.status == FIX]

    def table(self) -> Table:
        return Table(
            [
                {"Check": c.name, "Status": c.status, "Found": c.found, "To do": c.fix}
                for c in self.checks
            ]
        )

    def _repr_html_(self) -> str:
        return self.table()._repr_html_()

    def __repr__(self) -> str:
        return repr(self.table())


def check(backend: Backend, model_id: str) -> Preflight:
    """Everything below, for the backend's credentials and region and ``model_id``."""
    return run(backend.client, backend.region, model_id)


def run(client: Clients, region: str, model_id: str) -> Preflight:
    """The checks with any identity's clients (a test's IAM user, a role session): the
    credentials first, since every later answer depends on who asks."""
    caller, credentials = _credentials(client)
    checks = [credentials, _region(region)]
    if caller is None:
        later = "Fix the credentials first."
        return Preflight([*checks, Check("Model and permissions", UNCHECKED, "", later)])
    checks += _model(client("bedrock"), region, model_id)
    checks += _permissions(client, caller, region)
    return Preflight(checks)


def _error(error: ClientError) -> tuple[str, str]:
    return error.response["Error"].get("Code", ""), error.response["Error"].get("Message", "")


def _credentials(client: Clients) -> tuple[dict | None, Check]:
    """Who the credentials belong to (STS GetCallerIdentity), or why AWS refuses them."""
    try:
        caller = client("sts").get_caller_identity()
    except ClientError as error:
        code, message = _error(error)
        found = f"AWS refuses them: {code}: {message}"
    except BotoCoreError as error:  # none found, an expired SSO session, no endpoint
        found = str(error)
    else:
        return caller, Check("Credentials", OK, f"{caller['Arn']} (account {caller['Account']})")
    fix = (
        "Refresh or replace your credentials (aws sso login, aws configure, or "
        "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), then restart the kernel."
    )
    return None, Check("Credentials", FIX, found, fix)


def _region(region: str) -> Check:
    if region in AGENTCORE_REGIONS:
        return Check("Region", OK, f"{region}: AgentCore Runtime and Identity are offered here")
    return Check(
        "Region",
        FIX,
        f"{region}: not among AgentCore's regions",
        "Set REGION to one of " + ", ".join(AGENTCORE_REGIONS) + ".",
    )


def _model(bedrock: Any, region: str, model_id: str) -> list[Check]:
    """The inference profile (if the id names one), the model's availability to the
    account, and, for an Anthropic model, the account's use-case form."""
    foundation = model.foundation_model(model_id)
    checks = [_profile(bedrock, region, model_id)] if model.geography(model_id) else []
    checks.append(_availability(bedrock, region, foundation))
    if foundation.startswith("anthropic."):
        checks.append(_use_case(bedrock))
    return checks


def _unchecked(name: str, action: str, error: ClientError) -> Check:
    code, message = _error(error)
    return Check(name, UNCHECKED, f"{code}: {message}", f"Your identity may not call {action}.")


def _profile(bedrock: Any, region: str, model_id: str) -> Check:
    name = "Model: inference profile"
    try:
        profile = bedrock.get_inference_profile(inferenceProfileIdentifier=model_id)
    except ClientError as error:
        if _error(error)[0] in REFUSED:
            return _unchecked(name, "bedrock:GetInferenceProfile", error)
        found = f"{model_id}: no such inference profile in {region} ({_error(error)[0]})"
        ours = model.model_id(region)
        fix = (
            f"Set MODEL_ID = None: it picks {ours}, Claude Sonnet 4.5's profile for {region}."
            if model_id != ours
            else f"Claude Sonnet 4.5 is not offered in {region}: choose another REGION, or a "
            "MODEL_ID of a model offered there."
        )
        return Check(name, FIX, found, fix)
    found = f"{model_id}: {profile['inferenceProfileName']}, {profile['status']}"
    return Check(name, OK if profile["status"] == "ACTIVE" else FIX, found)


def _availability(bedrock: Any, region: str, foundation: str) -> Check:
    name = "Model: access"
    try:
        answer = bedrock.get_foundation_model_availability(modelId=foundation)
    except ClientError as error:
        if _error(error)[0] in REFUSED:
            return _unchecked(name, "bedrock:GetFoundationModelAvailability", error)
        code, message = _error(error)
        return Check(name, FIX, f"{foundation}: {code}: {message}", "Choose another MODEL_ID.")
    agreement = answer["agreementAvailability"]
    statuses = (
        f"region {answer['regionAvailability']}, {answer['authorizationStatus']}, "
        f"entitlement {answer['entitlementAvailability']}, agreement {agreement['status']}"
        + (f" ({agreement['errorMessage']})" if agreement.get("errorMessage") else "")
    )
    found = f"{foundation}: {statuses}"
    if answer["regionAvailability"] != AVAILABLE:
        return Check(name, FIX, found, f"The model is not offered in {region}: choose a REGION.")
    if answer["authorizationStatus"] != AUTHORIZED:
        fix = (
            "Your account may not use this model: ask your administrator (an organization's "
            "policy may deny it)."
        )
        return Check(name, FIX, found, fix)
    if answer["entitlementAvailability"] != AVAILABLE or agreement["status"] != AVAILABLE:
        return Check(name, FIX, found, SUBSCRIBE)
    return Check(name, OK, found)


def _use_case(bedrock: Any) -> Check:
    name = "Model: Anthropic use-case form"
    try:
        bedrock.get_use_case_for_model_access()
    except ClientError as error:
        if _error(error)[0] != "ResourceNotFoundException":
            return _unchecked(name, "bedrock:GetUseCaseForModelAccess", error)
        fix = (
            "Anthropic asks each account once what it uses Claude for: in the Bedrock "
            "console, open a Claude model in the model catalog and submit the use case "
            "details (an organization's management account can submit it for all)."
        )
        return Check(name, FIX, "not submitted for this account", fix)
    return Check(name, OK, "submitted for this account")


def _principal(client: Clients, caller: dict) -> str | None:
    """The IAM user or role behind the caller (what IAM simulates), None for the root.

    A role's session (``…:assumed-role/<role>/<session>``) is simulated as its role, whose
    ARN may have a path (IAM Identity Center's roles do): GetRole has it, and where GetRole
    is refused the ARN without a path is the best guess.
    """
    arn, account = caller["Arn"], caller["Account"]
    resource = arn.split(":", 5)[-1]
    if resource == "root":
        return None
    if not resource.startswith("assumed-role/"):
        return arn
    role = resource.split("/")[1]
    try:
        return client("iam").get_role(RoleName=role)["Role"]["Arn"]
    except ClientError:
        return f"arn:aws:iam::{account}:role/{role}"


def _permissions(client: Clients, caller: dict, region: str) -> list[Check]:
    """IAM's simulation of the learner's own policies for what the workshop does as them."""
    source = _principal(client, caller)
    if source is None:
        found = "the account's root user may do everything (AWS advises an IAM role or user)"
        return [Check("Permissions", OK, found)]
    iam, checks = client("iam"), []
    for need in NEEDS:
        resource = need.resource.format(region=region, account=caller["Account"])
        try:
            answer = iam.simulate_principal_policy(
                PolicySourceArn=source,
                ActionNames=list(need.actions),
                ResourceArns=[resource],
                ContextEntries=[
                    {"ContextKeyName": key, "ContextKeyValues": [value], "ContextKeyType": "string"}
                    for key, value in need.context
                ],
            )
        except ClientError as error:
            code, message = _error(error)
            fix = (
                "Nothing to do for the workshop, but your permissions are unchecked: if a "
                "later step is refused, its message names the permission it needs."
            )
            found = f"IAM policy simulation of {source} refused: {code}: {message}"
            return [*checks, Check("Permissions", UNCHECKED, found, fix)]
        denied = [
            r["EvalActionName"]
            for r in answer["EvaluationResults"]
            if r["EvalDecision"] != "allowed"
        ]
        name = f"Permissions: {need.what}"
        if denied:
            fix = need.fix.format(account=caller["Account"])
            checks.append(Check(name, FIX, "denied: " + ", ".join(denied), fix))
        else:
            checks.append(Check(name, OK, "allowed"))
    return checks
