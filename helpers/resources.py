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
from helpers.runtime import LOG_GROUPS
from helpers.state import Kind, WorkshopState
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


COGNITO, CONTROL = "cognito-idp", "bedrock-agentcore-control"
Operation = str | Callable[[Backend, Entry], Any]


@dataclass(frozen=True)
class Handling:
    """How one kind is found and deleted: an API operation each, or a function for more."""

    notebook: str  # which notebook creates it, to re-run when it vanished
    label: str  # what to call it, filled from its ledger entry: "user pool {id}"
    service: str
    read: Operation  # raises a "gone" ClientError if the resource is not there
    remove: Operation
    parameters: dict[str, str]  # API parameter → ledger attribute
    # What AWS made for it and keeps when it is gone (a runtime's log groups): deleted
    # after it, even when it was gone already; returns what it deleted, described.
    remains: Callable[[Backend, Entry], list[str]] | None = None

    def describe(self, entry: Entry) -> str:
        return self.label.format(**entry)

    def notebook_of(self, entry: Entry) -> str:
        """The notebook that made this one: its entry says so where a later step made it."""
        return entry.get("notebook", self.notebook)

    def exists(self, backend: Backend, entry: Entry) -> None:
        self._call(self.read, backend, entry)

    def delete(self, backend: Backend, entry: Entry) -> None:
        self._call(self.remove, backend, entry)

    def delete_remains(self, backend: Backend, entry: Entry) -> list[str]:
        return self.remains(backend, entry) if self.remains else []

    def _call(self, operation: Operation, backend: Backend, entry: Entry) -> None:
        if callable(operation):
            operation(backend, entry)
            return
        arguments = {name: entry[attribute] for name, attribute in self.parameters.items()}
        getattr(backend.client(self.service), operation)(**arguments)


def _domain_exists(backend: Backend, entry: Entry) -> None:
    answer = backend.client(COGNITO).describe_user_pool_domain(Domain=entry["domain"])
    if not answer.get("DomainDescription", {}).get("UserPoolId"):  # Cognito answers {} for none
        raise ClientError(
            {"Error": {"Code": "ResourceNotFoundException"}}, "DescribeUserPoolDomain"
        )


def _delete_runtime(backend: Backend, entry: Entry) -> None:
    """Endpoints of its own first: AWS refuses while one is left (DEFAULT goes with the
    runtime). Deleting returns at once (DELETING); wait until the runtime is really gone."""
    control, runtime = backend.client(CONTROL), {"agentRuntimeId": entry["id"]}
    pages = control.get_paginator("list_agent_runtime_endpoints").paginate(**runtime)
    for name in [endpoint["name"] for page in pages for endpoint in page["runtimeEndpoints"]]:
        if name != "DEFAULT":
            control.delete_agent_runtime_endpoint(**runtime, endpointName=name)
    control.delete_agent_runtime(**runtime)
    _wait_until_gone(
        lambda: control.get_agent_runtime(**runtime), f"the agent runtime {entry['id']}", 600
    )


def _wait_until_gone(read: Callable[[], Any], what: str, timeout: float) -> None:
    """Until ``read`` fails with a "gone" error: AWS finishes some deletions in the background."""

    def gone() -> bool | None:
        try:
            read()
        except ClientError as error:
            if is_gone(error):
                return True
            raise
        return None

    wait_until(gone, f"{what} to be deleted", timeout=timeout)


def runtime_log_groups(backend: Backend, prefix: str = LOG_GROUPS) -> list[str]:
    pages = backend.client("logs").get_paginator("describe_log_groups")
    return [
        group["logGroupName"]
        for page in pages.paginate(logGroupNamePrefix=prefix)
        for group in page["logGroups"]
    ]


def _delete_log_groups(backend: Backend, entry: Entry) -> list[str]:
    """Each endpoint's log group: AgentCore Runtime creates them and keeps them (and bills
    what they store) after the runtime, and its endpoints, are deleted."""
    groups = runtime_log_groups(backend, f"{LOG_GROUPS}{entry['id']}-")
    for group in groups:
        try:
            backend.client("logs").delete_log_group(logGroupName=group)
        except ClientError as error:
            if not is_gone(error):
                raise
    return [f"log group {group}" for group in groups]


def _delete_domain(backend: Backend, entry: Entry) -> None:
    """Cognito deletes a domain in the background, and a pool cannot go while it has one:
    wait, as the starter toolkit does (it sleeps 5 s), until the domain is gone."""
    cognito = backend.client(COGNITO)
    cognito.delete_user_pool_domain(Domain=entry["domain"], UserPoolId=entry["pool_id"])
    _wait_until_gone(lambda: _domain_exists(backend, entry), f"the domain {entry['domain']}", 60)


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


_POOL = {"UserPoolId": "pool_id"}
KINDS: dict[Kind, Handling] = {
    Kind.USER_POOL: Handling(
        "01_setup_cognito", "user pool {id}", COGNITO, "describe_user_pool", "delete_user_pool",
        {"UserPoolId": "id"},
    ),
    Kind.USER_POOL_DOMAIN: Handling(
        "01_setup_cognito", "hosted-UI domain {domain}", COGNITO, _domain_exists,
        _delete_domain, {"Domain": "domain", **_POOL},
    ),
    Kind.USER_POOL_CLIENT: Handling(
        "01_setup_cognito", "app client {id}", COGNITO, "describe_user_pool_client",
        "delete_user_pool_client", {**_POOL, "ClientId": "id"},
    ),
    Kind.USER: Handling(
        "01_setup_cognito", "user {username}", COGNITO, "admin_get_user", "admin_delete_user",
        {**_POOL, "Username": "username"},
    ),
    Kind.RESOURCE_SERVER: Handling(
        "09_machine_to_machine", "resource server {identifier}", COGNITO,
        "describe_resource_server", "delete_resource_server",
        {**_POOL, "Identifier": "identifier"},
    ),
    Kind.CREDENTIAL_PROVIDER: Handling(
        "04_credential_provider", "credential provider {name}", CONTROL,
        "get_oauth2_credential_provider", "delete_oauth2_credential_provider", {"name": "name"},
    ),
    Kind.API_KEY_PROVIDER: Handling(
        "10_api_keys", "API-key credential provider {name}", CONTROL,
        "get_api_key_credential_provider", "delete_api_key_credential_provider",
        {"name": "name"},
    ),
    Kind.WORKLOAD_IDENTITY: Handling(
        "05_workload_identity", "workload identity {name}", CONTROL, "get_workload_identity",
        "delete_workload_identity", {"name": "name"},
    ),
    Kind.EXECUTION_ROLE: Handling(
        "06_launch", "execution role {name}", "iam", "get_role", _delete_role, {"RoleName": "name"}
    ),
    Kind.CODE_BUCKET: Handling(
        "06_launch", "S3 bucket {name}", "s3", "head_bucket", _delete_bucket, {"Bucket": "name"}
    ),
    Kind.AGENT_RUNTIME: Handling(
        "06_launch", "agent runtime {id}", CONTROL, "get_agent_runtime", _delete_runtime,
        {"agentRuntimeId": "id"}, remains=_delete_log_groups,
    ),
}  # fmt: skip


def check(backend: Backend, state: WorkshopState) -> list[str]:
    """What the state remembers but AWS no longer has: forgotten, with what to re-run."""
    vanished = []
    for key, entry in list(state.ledger.items()):
        kind = KINDS[Kind(entry["kind"])]
        try:
            kind.exists(backend, entry)
        except ClientError as error:
            if not is_gone(error):
                raise
            state.forget(key)
            vanished.append(
                f"The {kind.describe(entry)} no longer exists (deleted elsewhere, or the local "
                f"backend restarted): re-run {kind.notebook_of(entry)} and the notebooks after it."
            )
    return vanished
