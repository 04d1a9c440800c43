"""Quickstart step 7, first part: the execution role AgentCore Runtime assumes for the agent.

Least privilege: the agent may write its logs and traces, call its model, and use
AgentCore Identity for this workshop's agent only. The roles are named
`BedrockAgentCore…`: AWS's managed policy BedrockAgentCoreFullAccess lets a learner pass
(iam:PassRole) only roles whose name contains "BedrockAgentCore".
"""

import json
from dataclasses import dataclass
from typing import Any

from helpers.backend import Backend
from helpers.credential_provider import CredentialProvider
from helpers.display import Shown, Table, table
from helpers.errors import explain
from helpers.model import foundation_model
from helpers.runtime import runtime_name
from helpers.state import Kind, WorkshopState

POLICY_NAME = "AgentCoreIdentityAgent"
ROLE_PREFIX = "BedrockAgentCoreWorkshop"  # what BedrockAgentCoreFullAccess may pass
OAUTH2, API_KEY = "oauth2credentialprovider", "apikeycredentialprovider"


@dataclass(frozen=True, repr=False)
class ExecutionRole(Shown):
    name: str
    arn: str
    policy: dict[str, Any]
    trust_policy: dict[str, Any]  # who may assume it, as IAM has it

    def table(self) -> Table:
        """The role's policy: one row per statement."""

        def listed(value: str | list[str]) -> str:
            return ", ".join(value) if isinstance(value, list) else value

        def only_if(statement: dict[str, Any]) -> str:
            tests = statement.get("Condition", {}).values()
            return "; ".join(f"{key} = {listed(value)}" for t in tests for key, value in t.items())

        return table(
            [
                {
                    "Statement": s["Sid"],
                    "Actions": listed(s["Action"]),
                    "Resources": listed(s["Resource"]),
                    "Only if": only_if(s),
                }
                for s in self.policy["Statement"]
            ]
        )


def _policy(
    backend: Backend, state: WorkshopState, provider: CredentialProvider, model_id: str
) -> dict:
    where = f"{backend.region}:{backend.account}"
    model = foundation_model(model_id)  # a cross-region profile is "us." + the model
    workloads = workload_identities(backend, runtime_name(state))
    return {
        "Version": "2012-10-17",
        "Statement": [
            *logs_statements(backend),
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
                    f"arn:aws:bedrock:{where}:inference-profile/{model_id}",
                ],
            },
            marketplace_statement(),
            workload_access_tokens(workloads),
            {
                "Sid": "UserTokens",
                "Effect": "Allow",
                "Action": ["bedrock-agentcore:GetResourceOauth2Token"],
                "Resource": [*workloads, *token_vault(backend, OAUTH2, [provider.name])],
            },
            {
                "Sid": "ProviderSecret",
                "Effect": "Allow",
                "Action": ["secretsmanager:GetSecretValue"],
                "Resource": [provider.secret_arn],
            },
        ],
    }


def workload_identities(backend: Backend, runtime: str) -> list[str]:
    """The workload identity directory, and the identities AgentCore Runtime names after
    ``runtime``: what a role may get workload access tokens for."""
    where = f"{backend.region}:{backend.account}"
    directory = f"arn:aws:bedrock-agentcore:{where}:workload-identity-directory/default"
    return [directory, f"{directory}/workload-identity/{runtime}-*"]


def token_vault(backend: Backend, kind: str, providers: list[str]) -> list[str]:
    """The token vault and its credential providers of ``kind`` (`OAUTH2`, `API_KEY`) named
    ``providers``, as IAM names them when the agent asks for a credential.

    Built, not read from AWS: the control plane answers with a provider ARN of another
    form (`arn:aws:acps:…`), which IAM never evaluates, so a policy granting that one
    leaves the agent denied its first token.
    """
    where = f"{backend.region}:{backend.account}"
    vault = f"arn:aws:bedrock-agentcore:{where}:token-vault/default"
    return [vault, *(f"{vault}/{kind}/{name}" for name in providers)]


def marketplace_statement() -> dict:
    """The first call to an Anthropic model in an account subscribes it to the model's AWS
    Marketplace offer, with the caller's permissions: without these, that first call is
    AccessDenied. Only through Bedrock (aws:CalledViaLast), as the starter toolkit grants."""
    return {
        "Sid": "MarketplaceSubscribeOnFirstCall",
        "Effect": "Allow",
        "Action": ["aws-marketplace:ViewSubscriptions", "aws-marketplace:Subscribe"],
        "Resource": "*",  # the Marketplace actions have no resource-level permissions
        "Condition": {"StringEquals": {"aws:CalledViaLast": "bedrock.amazonaws.com"}},
    }


def workload_access_tokens(workloads: list[str], for_jwt: bool = True) -> dict:
    """Workload access tokens for ``workloads``: for a user's JWT only behind an authorizer."""
    kinds = ["", "ForJWT", "ForUserId"] if for_jwt else ["", "ForUserId"]
    return {
        "Sid": "WorkloadAccessTokens",
        "Effect": "Allow",
        "Action": [f"bedrock-agentcore:GetWorkloadAccessToken{kind}" for kind in kinds],
        "Resource": workloads,
    }


def logs_statements(backend: Backend) -> list[dict]:
    """Writing to the runtimes' CloudWatch log groups, where an agent's output goes, as
    AWS's example execution role grants it (finding the groups and streams included)."""
    where = f"{backend.region}:{backend.account}"
    groups = f"arn:aws:logs:{where}:log-group:"
    runtimes = f"{groups}/aws/bedrock-agentcore/runtimes/*"
    return [
        {
            "Sid": "LogGroups",
            "Effect": "Allow",
            "Action": ["logs:DescribeLogStreams", "logs:CreateLogGroup"],
            "Resource": [runtimes],
        },
        {
            "Sid": "FindLogGroups",
            "Effect": "Allow",
            "Action": ["logs:DescribeLogGroups"],
            "Resource": [f"{groups}*"],
        },
        {
            "Sid": "Logs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [f"{runtimes}:log-stream:*"],
        },
    ]


def role_name(purpose: str, state: WorkshopState) -> str:
    """``BedrockAgentCoreWorkshop<purpose>-<suffix>``: a name the learner may pass, well
    within IAM's 64 characters."""
    return f"{ROLE_PREFIX}{purpose}-{state.suffix}"


def trust_policy(backend: Backend) -> dict:
    """AgentCore Runtime of this account and region may assume the role, nobody else."""
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


def ensure_execution_role(
    backend: Backend,
    state: WorkshopState,
    provider: CredentialProvider,
    model_id: str,
) -> ExecutionRole:
    """The role AgentCore Runtime assumes to run the agent, with its policy (re)applied."""
    return ensure_role(
        backend,
        state,
        key="execution_role",
        name=role_name("Runtime", state),
        description="Runs the AgentCore Identity workshop's agent",
        policy_name=POLICY_NAME,
        policy=_policy(backend, state, provider, model_id),
    )


def ensure_role(
    backend: Backend,
    state: WorkshopState,
    *,
    key: str,
    name: str,
    description: str,
    policy_name: str,
    policy: dict,
    **recorded: str,
) -> ExecutionRole:
    """A role only AgentCore Runtime may assume (ledger ``key``), ``policy`` (re)applied."""
    iam = backend.client("iam")
    if state.get(key) is None:
        with explain(f"Creating the execution role {name}"):
            iam.create_role(
                RoleName=name,
                AssumeRolePolicyDocument=json.dumps(trust_policy(backend)),
                Description=description,
            )
        state.record(key, Kind.EXECUTION_ROLE, name=name, **recorded)
    with explain(f"Granting {name} what its agent needs"):
        iam.put_role_policy(
            RoleName=name, PolicyName=policy_name, PolicyDocument=json.dumps(policy)
        )
        role = iam.get_role(RoleName=name)["Role"]
    return ExecutionRole(name, role["Arn"], policy, role["AssumeRolePolicyDocument"])
