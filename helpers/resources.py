"""Every kind of resource the workshop creates: how to tell it still exists, how to delete it,
and which notebook makes it. The ledger in the state file names kinds from here.

The state remembers what the workshop made; AWS (or a restarted local backend) may have
lost it since. `check` finds what vanished, forgets it, and says what to re-run.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from helpers.backend import Backend
from helpers.state import WorkshopState
from helpers.waiting import wait_until

GONE = {
    "ResourceNotFoundException",
    "NoSuchEntity",
    "NoSuchBucket",
    "404",
    "UserNotFoundException",
}

Entry = dict[str, Any]


def is_gone(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") in GONE


@dataclass(frozen=True)
class Kind:
    notebook: str
    describe: Callable[[Entry], str]
    exists: Callable[[Backend, Entry], Any]  # raises a "gone" ClientError if it does not
    delete: Callable[[Backend, Entry], Any]


def _cognito(backend: Backend):
    return backend.client("cognito-idp")


def _control(backend: Backend):
    return backend.client("bedrock-agentcore-control")


def _domain_exists(backend: Backend, entry: Entry) -> None:
    answer = _cognito(backend).describe_user_pool_domain(Domain=entry["domain"])
    if not answer.get("DomainDescription", {}).get("UserPoolId"):  # Cognito answers {} for none
        raise ClientError(
            {"Error": {"Code": "ResourceNotFoundException"}}, "DescribeUserPoolDomain"
        )


def _delete_runtime(backend: Backend, entry: Entry) -> None:
    _control(backend).delete_agent_runtime(agentRuntimeId=entry["id"])

    def deleted() -> bool | None:
        try:
            _control(backend).get_agent_runtime(agentRuntimeId=entry["id"])
        except ClientError as error:
            if is_gone(error):
                return True
            raise
        return None

    wait_until(deleted, f"the agent runtime {entry['id']} to be deleted", timeout=600)


def _delete_bucket(backend: Backend, entry: Entry) -> None:
    s3 = backend.client("s3")
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=entry["name"]):
        objects = [{"Key": item["Key"]} for item in page.get("Contents", [])]
        if objects:
            s3.delete_objects(Bucket=entry["name"], Delete={"Objects": objects})
    s3.delete_bucket(Bucket=entry["name"])


def _delete_role(backend: Backend, entry: Entry) -> None:
    iam = backend.client("iam")
    for policy in iam.list_role_policies(RoleName=entry["name"])["PolicyNames"]:
        iam.delete_role_policy(RoleName=entry["name"], PolicyName=policy)
    for attached in iam.list_attached_role_policies(RoleName=entry["name"])["AttachedPolicies"]:
        iam.detach_role_policy(RoleName=entry["name"], PolicyArn=attached["PolicyArn"])
    iam.delete_role(RoleName=entry["name"])


KINDS: dict[str, Kind] = {
    "cognito-user-pool": Kind(
        "01_setup_cognito",
        lambda e: f"user pool {e['id']}",
        lambda b, e: _cognito(b).describe_user_pool(UserPoolId=e["id"]),
        lambda b, e: _cognito(b).delete_user_pool(UserPoolId=e["id"]),
    ),
    "cognito-user-pool-domain": Kind(
        "01_setup_cognito",
        lambda e: f"hosted-UI domain {e['domain']}",
        _domain_exists,
        lambda b, e: _cognito(b).delete_user_pool_domain(
            Domain=e["domain"], UserPoolId=e["pool_id"]
        ),
    ),
    "cognito-user-pool-client": Kind(
        "01_setup_cognito",
        lambda e: f"app client {e['id']}",
        lambda b, e: _cognito(b).describe_user_pool_client(
            UserPoolId=e["pool_id"], ClientId=e["id"]
        ),
        lambda b, e: _cognito(b).delete_user_pool_client(UserPoolId=e["pool_id"], ClientId=e["id"]),
    ),
    "cognito-user": Kind(
        "01_setup_cognito",
        lambda e: f"user {e['username']}",
        lambda b, e: _cognito(b).admin_get_user(UserPoolId=e["pool_id"], Username=e["username"]),
        lambda b, e: _cognito(b).admin_delete_user(UserPoolId=e["pool_id"], Username=e["username"]),
    ),
    "oauth2-credential-provider": Kind(
        "04_credential_provider",
        lambda e: f"credential provider {e['name']}",
        lambda b, e: _control(b).get_oauth2_credential_provider(name=e["name"]),
        lambda b, e: _control(b).delete_oauth2_credential_provider(name=e["name"]),
    ),
    "workload-identity": Kind(
        "05_workload_identity",
        lambda e: f"workload identity {e['name']}",
        lambda b, e: _control(b).get_workload_identity(name=e["name"]),
        lambda b, e: _control(b).delete_workload_identity(name=e["name"]),
    ),
    "iam-role": Kind(
        "06_launch",
        lambda e: f"execution role {e['name']}",
        lambda b, e: b.client("iam").get_role(RoleName=e["name"]),
        _delete_role,
    ),
    "s3-bucket": Kind(
        "06_launch",
        lambda e: f"S3 bucket {e['name']}",
        lambda b, e: b.client("s3").head_bucket(Bucket=e["name"]),
        _delete_bucket,
    ),
    "agent-runtime": Kind(
        "06_launch",
        lambda e: f"agent runtime {e['id']}",
        lambda b, e: _control(b).get_agent_runtime(agentRuntimeId=e["id"]),
        _delete_runtime,
    ),
}


def check(backend: Backend, state: WorkshopState) -> list[str]:
    """What the state remembers but AWS no longer has: forgotten, with what to re-run."""
    vanished = []
    for key, entry in list(state.ledger.items()):
        kind = KINDS[entry["kind"]]
        try:
            kind.exists(backend, entry)
        except ClientError as error:
            if not is_gone(error):
                raise
            state.forget(key)
            vanished.append(
                f"The {kind.describe(entry)} no longer exists (deleted elsewhere, or the local "
                f"backend restarted): re-run {kind.notebook} and the notebooks after it."
            )
    return vanished
