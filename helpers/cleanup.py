"""Quickstart cleanup: delete everything the workshop made, newest first, and prove it.

The ledger is replayed in reverse, so what depends on something goes before it (the
runtime before its role and bucket, users, clients and domains before their pool). Each
resource leaves the ledger the moment it is gone (a runtime once its log groups are gone
too), so an interrupted cleanup resumes where it stopped. Then list calls confirm nothing
named for this workshop remains. AWS lists some deletions for a while (an S3 bucket, a
runtime's own workload identity), so what is still listed is checked again for a short
while; a runtime's identity still listed after that is explained, not counted as left.

A damaged state file has no ledger to replay, but every name the workshop gives ends in
its suffix, which usually outlives the damage in what is left of its files: list calls
find the resources by that suffix and make a ledger of them to replay instead.
"""

import contextlib
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

from botocore.exceptions import ClientError

from helpers.backend import Backend
from helpers.errors import WorkshopError
from helpers.paths import build_dir, state_file, workshop_dir
from helpers.resources import COGNITO, CONTROL, KINDS, Entry, Handling, is_gone, runtime_log_groups
from helpers.state import (
    ENV_FILE,
    SUFFIX_PATTERN,
    DamagedStateError,
    Kind,
    WorkshopState,
    binding,
    existing,
)
from helpers.waiting import wait_until
from helpers.workload_identity import LOCAL_DEV_CONFIG, WORKLOAD_NAME

# Every name the workshop gives ends in "-" or "_" and its suffix. A runtime's own workload
# identity ends in the runtime's id instead: it goes with its runtime.
WORKSHOP_NAME = re.compile(r"[-_]([0-9a-f]{8})$")
# A runtime's id, and so its own workload identity's name: the runtime's name (which the
# workshop ends in "_<suffix>"), "-" and 10 characters AgentCore chooses.
RUNTIME_IDENTITY = re.compile(r"^workload identity .*_[0-9a-f]{8}-[0-9A-Za-z]{10}$")
# Seconds the proof checks again what is still listed, until it is not (AWS: a bucket or a
# runtime's identity may be listed for a while after its deletion).
SETTLE = 30.0
LINGERING = (
    "The runtime's own workload identity: AgentCore Runtime made it and removes it after the "
    "runtime, in its own time. You cannot delete it (AWS refuses: it is linked to a "
    "service), and keeping it costs nothing."
)
# Where the suffix survives a damaged ledger, by path in the workshop folder: what is left of
# the state file, the quickstart's env file (its usernames end in it), the SDK's
# local-development file (the workload's name). The build folder's zip names no suffix.
TRACES = (
    (state_file(Path()), re.compile(r'"suffix":\s*"([0-9a-f]{8})"')),
    (Path(ENV_FILE), re.compile(r"^(?:RUNTIME|IDENTITY)_USERNAME='?[a-z]+?([0-9a-f]{8})'?$", re.M)),
    (Path(LOCAL_DEV_CONFIG), re.compile(re.escape(WORKLOAD_NAME) + r'-([0-9a-f]{8})"')),
)
RECORDED_BACKEND = re.compile(r'"backend":\s*\{\s*"name":\s*"([^"]*)",\s*"region":\s*"([^"]*)"')


def delete_all(backend: Backend, state: WorkshopState) -> list[dict[str, str]]:
    """Delete the ledger's resources, newest first; one row per resource (and per log group
    a runtime leaves)."""
    rows = []
    for key, entry in reversed(list(state.ledger.items())):
        kind = KINDS[Kind(entry["kind"])]
        try:
            result = _deleted(kind, backend, entry)
            remains = kind.delete_remains(backend, entry)
        except ClientError as error:
            code = error.response["Error"]["Code"]
            raise WorkshopError(
                f"Deleting the {kind.describe(entry)} failed: {code}: {error}. "
                "Fix the cause and run this cell again: it continues where it stopped.",
                code,
            ) from error
        state.forget(key)
        rows.append({"Resource": kind.describe(entry), "Result": result})
        rows += [{"Resource": name, "Result": "deleted"} for name in remains]
    return rows


def _deleted(kind: Handling, backend: Backend, entry: Entry) -> str:
    try:
        kind.delete(backend, entry)
    except ClientError as error:
        if not is_gone(error):
            raise
        return "already gone"
    return "deleted"


class Found(NamedTuple):
    """A resource a list call shows: what it is, its name, and a ledger entry to delete it."""

    noun: str
    name: str
    kind: Kind
    entry: Entry


def _items(client: Any, operation: str, key: str, **parameters: Any) -> Iterator[dict]:
    for page in client.get_paginator(operation).paginate(**parameters):
        yield from page[key]


def _listed(backend: Backend) -> Iterator[Found]:
    """Every resource of the kinds the workshop names, kind by kind in the order a ledger
    has them: replayed in reverse, runtimes go first and pools last."""
    cognito, control = backend.client(COGNITO), backend.client(CONTROL)
    for pool in _items(cognito, "list_user_pools", "UserPools", MaxResults=60):
        yield Found("user pool", pool["Name"], Kind.USER_POOL, {"id": pool["Id"]})
    for noun, operation, kind in (
        ("credential provider", "list_oauth2_credential_providers", Kind.CREDENTIAL_PROVIDER),
        ("API-key credential provider", "list_api_key_credential_providers", Kind.API_KEY_PROVIDER),
    ):
        for provider in _items(control, operation, "credentialProviders"):
            yield Found(noun, provider["name"], kind, {"name": provider["name"]})
    for workload in _items(control, "list_workload_identities", "workloadIdentities"):
        name = workload["name"]
        yield Found("workload identity", name, Kind.WORKLOAD_IDENTITY, {"name": name})
    for role in _items(backend.client("iam"), "list_roles", "Roles"):
        yield Found("IAM role", role["RoleName"], Kind.EXECUTION_ROLE, {"name": role["RoleName"]})
    for bucket in _items(backend.client("s3"), "list_buckets", "Buckets"):
        yield Found("S3 bucket", bucket["Name"], Kind.CODE_BUCKET, {"name": bucket["Name"]})
    for runtime in _items(control, "list_agent_runtimes", "agentRuntimes"):
        entry = {"id": runtime["agentRuntimeId"]}
        yield Found("agent runtime", runtime["agentRuntimeName"], Kind.AGENT_RUNTIME, entry)


def _suffix_of(name: str) -> str | None:
    return found.group(1) if (found := WORKSHOP_NAME.search(name)) else None


def _still_listed(backend: Backend, suffix: str) -> list[str]:
    """Everything still named for this workshop (its suffix), found by list calls."""
    found = [f"{found.noun} {found.name}" for found in _listed(backend) if suffix in found.name]
    return found + [f"log group {name}" for name in runtime_log_groups(backend) if suffix in name]


def leftovers(
    backend: Backend, suffix: str, settle: float = SETTLE
) -> tuple[list[str], list[dict[str, str]]]:
    """What is left of this workshop, and what lingers with a reason it is no failure.

    What list calls still show is checked again, with backoff, for up to ``settle``
    seconds: what AWS deleted may be listed for a while.
    """
    listed: list[str] = []

    def nothing_left() -> bool | None:
        listed[:] = _still_listed(backend, suffix)
        return None if listed else True

    with contextlib.suppress(WorkshopError):  # the bound: what is listed then is the answer
        wait_until(nothing_left, "deletions to show", settle, max_interval=backend.longest_poll)
    lingering = [name for name in listed if RUNTIME_IDENTITY.match(name)]
    left = [name for name in listed if name not in lingering]
    return left, [{"Still listed": name, "Why": LINGERING} for name in lingering]


def ledger_by_name(backend: Backend, suffix: str) -> dict[str, Entry]:
    """A ledger of what is named for ``suffix``, as the notebooks would have recorded it.

    A pool's domain is the one thing to delete before its pool; its clients, users and
    resource servers go with it.
    """
    ledger = {}
    for found in _listed(backend):
        if _suffix_of(found.name) != suffix:
            continue
        ledger[f"{found.kind}:{found.name}"] = {"kind": found.kind.value, **found.entry}
        if found.kind is Kind.USER_POOL:
            pool_id = found.entry["id"]
            answer = backend.client(COGNITO).describe_user_pool(UserPoolId=pool_id)
            if domain := answer["UserPool"].get("Domain"):
                ledger[f"{Kind.USER_POOL_DOMAIN}:{domain}"] = {
                    "kind": Kind.USER_POOL_DOMAIN.value,
                    "domain": domain,
                    "pool_id": pool_id,
                }
    return ledger


def _text(path: Path) -> str:
    """What is left of a file, however damaged ("" if nothing can be read)."""
    try:
        return path.read_bytes().decode(errors="replace")
    except OSError:
        return ""


def recovered_suffix(directory: Path | None = None) -> tuple[str, str] | None:
    """The workshop's suffix from the first of its files that still holds it, and that file."""
    root = directory or workshop_dir()
    for path, pattern in TRACES:
        if found := pattern.search(_text(root / path)):
            return found.group(1), str(path)
    return None


def _cannot_tell(backend: Backend, path: Path, problem: str) -> WorkshopError:
    """Why cleanup stops short: with the suffixes it sees, for the learner to pick theirs."""
    seen = sorted({suffix for found in _listed(backend) if (suffix := _suffix_of(found.name))})
    way_out = (
        "set SUFFIX in the parameters cell to the 8 characters that end this workshop's "
        f"resource names (names here end in {', '.join(seen)})"
        if seen
        else f"nothing here is named like a workshop's resource, so delete {path}"
    )
    return WorkshopError(
        f"Cleanup cannot tell which resources are this workshop's, as the state file {path} "
        f"{problem} and no other file of the workshop names its suffix: {way_out}."
    )


def _refuse_another_backend(backend: Backend, path: Path) -> None:
    """What is left of a damaged state may still say whose it is: never clean up elsewhere."""
    written_for = RECORDED_BACKEND.search(_text(path))
    if written_for and written_for.groups() != (backend.name, backend.region):
        raise WorkshopError(
            f"The damaged workshop state {path} belongs to the {written_for[1]} backend in "
            f"{written_for[2]}: run 13_cleanup with those parameters."
        )


def what_to_delete(backend: Backend, suffix: str = "") -> tuple[WorkshopState | None, str]:
    """The ledger cleanup replays, and a sentence saying where it comes from.

    A readable state gives its own. Without one (the file is damaged, or gone while other
    files of the workshop remain) the suffix names the workshop's resources: ``suffix`` when
    given (13's SUFFIX), else read from what is left of the files. The ledger made by name
    is saved as it shrinks, like the one it replaces: an interrupted cleanup resumes from it.
    """
    path = state_file()
    try:
        ws, problem = existing(backend), None
    except DamagedStateError as damage:
        _refuse_another_backend(backend, path)
        ws, problem = None, damage.problem
    if ws is not None:
        return ws, f"Workshop suffix: {ws.suffix}"
    source = "given as SUFFIX"
    if not suffix and (found := recovered_suffix()):
        suffix, source = found[0], f"read from {found[1]}"
    if not suffix:
        if problem is None:
            return None, "Nothing recorded: nothing to delete."
        raise _cannot_tell(backend, path, problem)
    if not SUFFIX_PATTERN.fullmatch(suffix):
        raise WorkshopError(
            f"SUFFIX must be the 8 hex characters that end this workshop's names, not {suffix!r}."
        )
    data = {"backend": binding(backend), "suffix": suffix}
    rebuilt = WorkshopState(path, {**data, "ledger": ledger_by_name(backend, suffix)})
    cause = f"The state file {problem}" if problem else "There is no state file"
    return rebuilt, (
        f"{cause}, so list calls found the {len(rebuilt.ledger)} resources named for this "
        f"workshop's suffix {suffix} ({source})."
    )


def remove_local_files(directory: Path | None = None) -> list[str]:
    """The state, credential and build files this workshop wrote on this machine."""
    root = directory or workshop_dir()
    files = [
        root / ENV_FILE,
        root / LOCAL_DEV_CONFIG,
        state_file(directory),
        *state_file(directory).parent.glob("state-*.stale.json"),
        *state_file(directory).parent.glob(".state.json.*.partial"),  # a writer that died
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


def run(backend: Backend, state: WorkshopState | None, settle: float = SETTLE) -> dict[str, Any]:
    """All of cleanup: resources, the check that nothing remains, local files."""
    if state is None:
        return {"deleted": [], "leftovers": [], "lingering": [], "files": remove_local_files()}
    deleted = delete_all(backend, state)
    left, lingering = leftovers(backend, state.suffix, settle)
    return {
        "deleted": deleted,
        "leftovers": left,
        "lingering": lingering,
        "files": remove_local_files(state.path.parent.parent),
    }
