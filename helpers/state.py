"""The workshop's memory: what it created (a ledger), and the quickstart-compatible env file.

Every notebook re-reads the state file, so a step re-run finds and reuses what an earlier
run made instead of creating a duplicate, and cleanup can replay the ledger in reverse.
The file holds passwords and secrets: it is mode 0600 and git-ignored.
"""

import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

from helpers.backend import Backend
from helpers.errors import WorkshopError
from helpers.paths import private_file, state_file, workshop_dir

ENV_FILE = ".agentcore_identity_user.env"
ENV_VARIABLES = (
    "RUNTIME_POOL_ID",
    "RUNTIME_CLIENT_ID",
    "RUNTIME_DISCOVERY_URL",
    "RUNTIME_USERNAME",
    "RUNTIME_PASSWORD",
    "IDENTITY_POOL_ID",
    "IDENTITY_CLIENT_ID",
    "IDENTITY_CLIENT_SECRET",
    "IDENTITY_DISCOVERY_URL",
    "IDENTITY_USERNAME",
    "IDENTITY_PASSWORD",
)
# Characters that need no quoting in a shell, python-dotenv or `export $(... | xargs)`.
_BARE = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:/@%+,")


class Kind(StrEnum):
    """Every kind of resource the ledger may name (`helpers.resources` deletes each)."""

    USER_POOL = "cognito-user-pool"
    USER_POOL_DOMAIN = "cognito-user-pool-domain"
    USER_POOL_CLIENT = "cognito-user-pool-client"
    USER = "cognito-user"
    RESOURCE_SERVER = "cognito-resource-server"
    CREDENTIAL_PROVIDER = "oauth2-credential-provider"
    API_KEY_PROVIDER = "api-key-credential-provider"
    WORKLOAD_IDENTITY = "workload-identity"
    EXECUTION_ROLE = "iam-role"
    CODE_BUCKET = "s3-bucket"
    AGENT_RUNTIME = "agent-runtime"


@dataclass
class WorkshopState:
    path: Path
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def suffix(self) -> str:
        """Eight hex characters in every resource name, so two workshops never collide."""
        return self.data["suffix"]

    @property
    def ledger(self) -> dict[str, dict[str, Any]]:
        """Created resources by key, in creation order."""
        return self.data["ledger"]

    def get(self, key: str) -> dict[str, Any] | None:
        return self.ledger.get(key)

    def record(self, key: str, kind: Kind, **attributes: Any) -> dict[str, Any]:
        """Remember a resource the moment it exists, so nothing is lost if a later call fails.

        An unknown kind fails here, in the notebook that creates the resource, rather than
        in cleanup, when the resource could no longer be deleted.
        """
        try:
            kind = Kind(kind)
        except ValueError as error:
            raise WorkshopError(f"{kind!r} is not a kind of resource the ledger knows.") from error
        entry = {"kind": kind.value, **attributes, "created": time.strftime("%Y-%m-%dT%H:%M:%S")}
        self.ledger[key] = entry
        self.save()
        return entry

    def setting(self, name: str, choose: Callable[[], str]) -> str:
        """A value chosen once for this workshop (``choose`` runs the first time) and kept."""
        if name not in self.data:
            self.data[name] = choose()
            self.save()
        return self.data[name]

    def forget(self, key: str) -> None:
        """Drop a resource from the ledger (it was deleted, or it vanished)."""
        if self.ledger.pop(key, None) is not None:
            self.save()

    def save(self) -> None:
        private_file(self.path, json.dumps(self.data, indent=2))


class DamagedStateError(WorkshopError):
    """The state file is not a workshop's state: no notebook can go on from it, and cleanup
    must find the workshop's resources some other way. ``problem`` says what is wrong."""

    def __init__(self, path: Path, problem: str):
        super().__init__(
            f"The workshop state {path} {problem}: run 13_cleanup, which deletes this "
            "workshop's resources by their names and starts afresh."
        )
        self.problem = problem


SUFFIX_PATTERN = re.compile(r"[0-9a-f]{8}")  # secrets.token_hex(4), as `load` chooses it
_KINDS = {kind.value for kind in Kind}


def _problem(data: Any) -> str | None:
    """What keeps ``data`` from being a state the notebooks and cleanup can rely on."""
    if not isinstance(data, dict):
        return "does not hold a JSON object"
    if missing := [key for key in ("backend", "suffix", "ledger") if key not in data]:
        return f"has no {' and no '.join(missing)}"
    recorded = data["backend"]
    if not isinstance(recorded, dict) or not {"name", "region", "instance"} <= recorded.keys():
        return "does not say which backend it belongs to"
    if not isinstance(data["suffix"], str) or not SUFFIX_PATTERN.fullmatch(data["suffix"]):
        return f"has {data['suffix']!r} where a suffix of 8 hex characters belongs"
    ledger = data["ledger"]
    if not isinstance(ledger, dict) or any(
        not isinstance(entry, dict) or entry.get("kind") not in _KINDS for entry in ledger.values()
    ):
        return "has a ledger entry that names no kind of resource"
    return None


def read(path: Path) -> dict[str, Any]:
    """The state in ``path``, or a `DamagedStateError` saying what is wrong with it."""
    try:
        data = json.loads(path.read_text())
    except OSError as error:
        raise DamagedStateError(path, f"cannot be read ({error.strerror})") from error
    except UnicodeDecodeError as error:
        raise DamagedStateError(path, "is not text") from error
    except json.JSONDecodeError as error:
        raise DamagedStateError(path, "is not valid JSON (it may have been cut short)") from error
    if problem := _problem(data):
        raise DamagedStateError(path, problem)
    return data


def binding(backend: Backend) -> dict[str, str | None]:
    """What the state records of its backend: state of another one is never mixed in."""
    return {"name": backend.name, "region": backend.region, "instance": backend.instance}


def load(backend: Backend, directory: Path | None = None) -> WorkshopState:
    """The state for ``backend``, created empty on first use.

    A local backend keeps everything in memory, so state recorded against an emulator
    that has since stopped describes nothing that exists: it is set aside and a fresh
    state begins. State of another backend or region is never silently mixed in. A
    damaged file is a `DamagedStateError`: guessing at it could lose track of resources.
    """
    path = state_file(directory)
    if path.exists():
        data = read(path)
        recorded = data["backend"]
        if recorded == binding(backend):
            return WorkshopState(path, data)
        if recorded["name"] == backend.name and backend.forgets_on_restart:
            path.replace(path.with_name(f"state-{recorded['instance']}.stale.json"))
        else:
            raise WorkshopError(
                f"The workshop state in {path} belongs to the {recorded['name']} backend in "
                f"{recorded['region']}. Run 13_cleanup with those parameters first, or use them."
            )
    data = {"backend": binding(backend), "suffix": secrets.token_hex(4), "ledger": {}}
    state = WorkshopState(path, data)
    state.save()
    return state


def existing(backend: Backend, directory: Path | None = None) -> WorkshopState | None:
    """The workshop's state if it has one (cleanup must not create a new one)."""
    return load(backend, directory) if state_file(directory).exists() else None


def _quoted(value: str) -> str:
    if value and set(value) <= _BARE:
        return value
    if set(value) & set("'\\\n"):
        raise WorkshopError(
            "Cannot write a value with a quote, backslash or newline to the env file."
        )
    return f"'{value}'"


def write_env_file(values: dict[str, str], directory: Path | None = None) -> Path:
    """Write the quickstart's ``.agentcore_identity_user.env`` (0600).

    Values with shell or dotenv metacharacters (passwords have ``=``, ``*``, ``$``) are
    single-quoted, which python-dotenv, ``source`` and ``xargs`` all read back verbatim.
    """
    missing = [name for name in ENV_VARIABLES if name not in values]
    if missing:
        raise WorkshopError(f"The env file needs {', '.join(missing)}.")
    path = (directory or workshop_dir()) / ENV_FILE
    lines = ["# AgentCore Identity Environment Variables (written by the workshop)"]
    lines += [f"{name}={_quoted(values[name])}" for name in ENV_VARIABLES]
    private_file(path, "\n".join(lines) + "\n")
    return path


def read_env_file(directory: Path | None = None) -> dict[str, str]:
    path = (directory or workshop_dir()) / ENV_FILE
    if not path.exists():
        raise WorkshopError(f"{path} does not exist yet: run 01_setup_cognito first.")
    return {name: value or "" for name, value in dotenv_values(path).items()}
