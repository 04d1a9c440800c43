"""The workshop's memory: what it created (a ledger), and the quickstart-compatible env file.

Every notebook re-reads the state file, so a step re-run finds and reuses what an earlier
run made instead of creating a duplicate, and cleanup can replay the ledger in reverse.
The file holds passwords and secrets: it is mode 0600 and git-ignored.
"""

import json
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


def load(backend: Backend, directory: Path | None = None) -> WorkshopState:
    """The state for ``backend``, created empty on first use.

    A local backend keeps everything in memory, so state recorded against an emulator
    that has since stopped describes nothing that exists: it is set aside and a fresh
    state begins. State of another backend or region is never silently mixed in.
    """
    path = state_file(directory)
    binding = {"name": backend.name, "region": backend.region, "instance": backend.instance}
    if path.exists():
        data = json.loads(path.read_text())
        recorded = data["backend"]
        if recorded == binding:
            return WorkshopState(path, data)
        if recorded["name"] == backend.name and backend.forgets_on_restart:
            path.replace(path.with_name(f"state-{recorded['instance']}.stale.json"))
        else:
            raise WorkshopError(
                f"The workshop state in {path} belongs to the {recorded['name']} backend in "
                f"{recorded['region']}. Run 13_cleanup with those parameters first, or use them."
            )
    state = WorkshopState(path, {"backend": binding, "suffix": secrets.token_hex(4), "ledger": {}})
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
