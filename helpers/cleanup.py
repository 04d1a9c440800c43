"""Quickstart cleanup: delete everything the workshop made, newest first, and prove it.

The ledger is replayed in reverse, so what depends on something goes before it (the
runtime before its role and bucket, users, clients and domains before their pool). Each
resource leaves the ledger the moment it is gone, so an interrupted cleanup resumes
where it stopped. Then list calls confirm nothing named for this workshop remains.
"""

import contextlib
import shutil
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from helpers.backend import Backend
from helpers.errors import WorkshopError
from helpers.paths import build_dir, state_file, workshop_dir
from helpers.resources import KINDS, is_gone
from helpers.state import ENV_FILE, Kind, WorkshopState
from helpers.workload_identity import LOCAL_DEV_CONFIG


def delete_all(backend: Backend, state: WorkshopState) -> list[dict[str, str]]:
    """Delete the ledger's resources, newest first; one row per resource."""
    rows = []
    for key, entry in reversed(list(state.ledger.items())):
        kind = KINDS[Kind(entry["kind"])]
        try:
            kind.delete(backend, entry)
            result = "deleted"
        except ClientError as error:
            if not is_gone(error):
                code = error.response["Error"]["Code"]
                raise WorkshopError(
                    f"Deleting the {kind.describe(entry)} failed: {code}: {error}. "
                    "Fix the cause and run this cell again: it continues where it stopped.",
                    code,
                ) from error
            result = "already gone"
        state.forget(key)
        rows.append({"Resource": kind.describe(entry), "Result": result})
    return rows


def _names(pages, key: str, field: str) -> list[str]:
    return [item[field] for page in pages for item in page[key]]


def leftovers(backend: Backend, suffix: str) -> list[str]:
    """Everything still named for this workshop (its suffix), found by list calls."""
    cognito = backend.client("cognito-idp")
    control = backend.client("bedrock-agentcore-control")
    iam = backend.client("iam")
    found = {
        "user pool": _names(
            cognito.get_paginator("list_user_pools").paginate(MaxResults=60), "UserPools", "Name"
        ),
        "credential provider": _names(
            control.get_paginator("list_oauth2_credential_providers").paginate(),
            "credentialProviders",
            "name",
        ),
        "API-key credential provider": _names(
            control.get_paginator("list_api_key_credential_providers").paginate(),
            "credentialProviders",
            "name",
        ),
        "workload identity": _names(
            control.get_paginator("list_workload_identities").paginate(),
            "workloadIdentities",
            "name",
        ),
        "agent runtime": _names(
            control.get_paginator("list_agent_runtimes").paginate(),
            "agentRuntimes",
            "agentRuntimeName",
        ),
        "IAM role": _names(iam.get_paginator("list_roles").paginate(), "Roles", "RoleName"),
        "S3 bucket": [b["Name"] for b in backend.client("s3").list_buckets()["Buckets"]],
    }
    return [f"{kind} {name}" for kind, names in found.items() for name in names if suffix in name]


def remove_local_files(directory: Path | None = None) -> list[str]:
    """The state, credential and build files this workshop wrote on this machine."""
    root = directory or workshop_dir()
    files = [
        root / ENV_FILE,
        root / LOCAL_DEV_CONFIG,
        state_file(directory),
        *state_file(directory).parent.glob("state-*.stale.json"),
    ]
    removed = [str(path.relative_to(root)) for path in files if path.exists()]
    for path in files:
        path.unlink(missing_ok=True)
    build = build_dir(directory)
    if build.exists():
        shutil.rmtree(build)
        removed.append(str(build.relative_to(root)))
    with contextlib.suppress(OSError):  # kept if something else (a backend's log) is in it
        build.parent.rmdir()
    return removed


def run(backend: Backend, state: WorkshopState | None) -> dict[str, Any]:
    """All of cleanup: resources, the check that nothing remains, local files."""
    if state is None:
        return {"deleted": [], "leftovers": [], "files": remove_local_files()}
    deleted = delete_all(backend, state)
    return {
        "deleted": deleted,
        "leftovers": leftovers(backend, state.suffix),
        "files": remove_local_files(state.path.parent.parent),
    }
