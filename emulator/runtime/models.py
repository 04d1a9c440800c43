"""AgentCore Runtime: agent runtimes, their versions and endpoints, their processes.

Every runtime has a DEFAULT endpoint, which follows the newest version; other endpoints
stay on the version they were given. Each endpoint runs its own agent process (AWS runs a
microVM per session of an endpoint), logging to the endpoint's own log group. Create and
update return at once (CREATING / UPDATING); a thread fetches the code from S3, starts the
agent and sets READY, or *_FAILED with the agent's own error output.
"""

import secrets
import string
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from moto.core.base_backend import BaseBackend
from moto.s3.models import s3_backends

from emulator import policies, site
from emulator.backends import agentcore_backends, every_backend
from emulator.exceptions import (
    ConflictException,
    ResourceNotFoundException,
    RuntimeClientError,
    ValidationException,
)
from emulator.identity.models import identity_backends, now
from emulator.runtime.process import (
    INITIALIZATION_EXCEEDED,
    INITIALIZATION_LIMIT,
    AgentProcess,
    LaunchFailed,
    RuntimeLog,
    agent_environment,
)

DEFAULT = "DEFAULT"
DEFAULT_LIFECYCLE = {"idleRuntimeSessionTimeout": 900, "maxLifetime": 28800}
# The members of Create/UpdateAgentRuntime that make up one version of a runtime.
CONFIGURATION = (
    "agentRuntimeArtifact",
    "roleArn",
    "networkConfiguration",
    "description",
    "authorizerConfiguration",
    "requestHeaderConfiguration",
    "protocolConfiguration",
    "lifecycleConfiguration",
    "environmentVariables",
)


def _suffix() -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(10))


@dataclass
class RuntimeEndpoint:
    """A name that invocations use (their ``qualifier``) for one version of a runtime."""

    name: str
    id: str
    arn: str
    runtime_arn: str
    target_version: str
    live_version: str | None = None
    status: str = "CREATING"
    description: str | None = None
    failure_reason: str | None = None
    created: datetime = field(default_factory=now)
    updated: datetime = field(default_factory=now)
    process: AgentProcess | None = None
    # Held while a dead agent is replaced, so that concurrent invocations start one agent.
    restart: threading.Lock = field(default_factory=threading.Lock)

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "id": self.id,
            "agentRuntimeEndpointArn": self.arn,
            "agentRuntimeArn": self.runtime_arn,
            "liveVersion": self.live_version,
            "targetVersion": self.target_version,
            "status": self.status,
            "description": self.description,
            "failureReason": self.failure_reason,
            "createdAt": self.created,
            "lastUpdatedAt": self.updated,
        }


@dataclass
class AgentRuntime:
    id: str
    name: str
    arn: str
    account: str
    region: str
    workload_arn: str
    versions: dict[str, dict[str, Any]]
    endpoints: dict[str, RuntimeEndpoint] = field(default_factory=dict)
    status: str = "CREATING"
    failure_reason: str | None = None
    created: datetime = field(default_factory=now)
    updated: datetime = field(default_factory=now)

    @property
    def version(self) -> str:
        return max(self.versions, key=int)

    def new_endpoint(self, name: str, version: str, description: str | None) -> RuntimeEndpoint:
        endpoint = RuntimeEndpoint(
            name=name,
            id=DEFAULT if name == DEFAULT else f"{name}-{_suffix()}",
            arn=f"{self.arn}/runtime-endpoint/{name}",
            runtime_arn=self.arn,
            target_version=version,
            description=description,
        )
        self.endpoints[name] = endpoint
        return endpoint

    def endpoint(self, name: str) -> RuntimeEndpoint:
        if name not in self.endpoints:
            raise ResourceNotFoundException(f"No endpoint {name} for agent runtime {self.id}.")
        return self.endpoints[name]

    def describe(self, version: str | None = None) -> dict[str, Any]:
        version = version or self.version
        if version not in self.versions:
            raise ResourceNotFoundException(f"No version {version} of agent runtime {self.id}.")
        config = self.versions[version]
        return {
            "agentRuntimeArn": self.arn,
            "agentRuntimeName": self.name,
            "agentRuntimeId": self.id,
            "agentRuntimeVersion": version,
            "createdAt": self.created,
            "lastUpdatedAt": self.updated,
            "status": self.status,
            "failureReason": self.failure_reason,
            "lifecycleConfiguration": DEFAULT_LIFECYCLE,
            **self._workload_identity_details(),
            **{key: value for key, value in config.items() if value is not None},
        }

    def _workload_identity_details(self) -> dict[str, Any]:
        """Optional in AWS's model, and nothing says AWS names it before the runtime is up:
        left out while CREATING, so a client must not count on it until READY."""
        if self.status == "CREATING":
            return {}
        return {"workloadIdentityDetails": {"workloadIdentityArn": self.workload_arn}}

    def summary(self, version: str | None = None) -> dict[str, Any]:
        """A List* item: AWS's summary shape requires a description, empty when none was given."""
        described = self.describe(version)
        return described | {"description": described.get("description", "")}


class RuntimeBackend(BaseBackend):
    def __init__(self, region_name: str, account_id: str):
        super().__init__(region_name, account_id)
        self.lock = threading.Lock()
        self.runtimes: dict[str, AgentRuntime] = {}

    @property
    def identity(self):
        return identity_backends[self.account_id][self.region_name]

    def create_agent_runtime(self, name: str, config: dict[str, Any]) -> AgentRuntime:
        self._check_artifact(config)
        with self.lock:
            if any(runtime.name == name for runtime in self.runtimes.values()):
                raise ConflictException(f"An agent runtime named {name} already exists.")
            runtime_id = f"{name}-{_suffix()}"
            where = f"{self.region_name}:{self.account_id}"
            arn = f"arn:aws:bedrock-agentcore:{where}:runtime/{runtime_id}"
            # The runtime's own workload identity is named after it and linked to it.
            workload = self.identity.create_workload_identity(runtime_id, [], linked_to=arn)
            runtime = AgentRuntime(
                id=runtime_id,
                name=name,
                arn=arn,
                account=self.account_id,
                region=self.region_name,
                workload_arn=workload.arn,
                versions={"1": config},
            )
            default = runtime.new_endpoint(DEFAULT, "1", None)
            self.runtimes[runtime_id] = runtime
        self._launch_in_background(runtime, default, "CREATE_FAILED")
        return runtime

    def get_agent_runtime(self, runtime_id: str) -> AgentRuntime:
        if runtime_id not in self.runtimes:
            raise ResourceNotFoundException(f"Agent runtime {runtime_id} not found.")
        return self.runtimes[runtime_id]

    def find_by_arn(self, arn: str) -> AgentRuntime | None:
        return next((r for r in list(self.runtimes.values()) if r.arn == arn), None)

    def update_agent_runtime(self, runtime_id: str, config: dict[str, Any]) -> AgentRuntime:
        self._check_artifact(config)
        runtime = self.get_agent_runtime(runtime_id)
        with self.lock:
            version = str(int(runtime.version) + 1)
            runtime.versions[version] = config
            runtime.status, runtime.failure_reason, runtime.updated = "UPDATING", None, now()
            default = runtime.endpoints[DEFAULT]
            default.target_version, default.status, default.updated = version, "UPDATING", now()
        self._launch_in_background(runtime, default, "UPDATE_FAILED")
        return runtime

    def delete_agent_runtime(self, runtime_id: str) -> AgentRuntime:
        """As AWS: refused while endpoints of its own are left; DEFAULT goes with it."""
        runtime = self.get_agent_runtime(runtime_id)
        with self.lock:
            if others := sorted(name for name in runtime.endpoints if name != DEFAULT):
                raise ConflictException(
                    f"Agent runtime {runtime_id} has endpoints that must be deleted first: "
                    + ", ".join(others)
                )
            runtime.status = "DELETING"
            self.runtimes.pop(runtime_id, None)
        for endpoint in list(runtime.endpoints.values()):
            self._stop(endpoint)
        self.identity.retire_workload_identity(runtime.id)
        return runtime

    def create_agent_runtime_endpoint(
        self, runtime_id: str, name: str, version: str | None, description: str | None
    ) -> RuntimeEndpoint:
        runtime = self.get_agent_runtime(runtime_id)
        with self.lock:
            if name in runtime.endpoints:
                raise ConflictException(
                    f"An endpoint named {name} already exists for agent runtime {runtime_id}."
                )
            version = self._existing_version(runtime, version or runtime.version)
            endpoint = runtime.new_endpoint(name, version, description)
        self._launch_in_background(runtime, endpoint, "CREATE_FAILED")
        return endpoint

    def update_agent_runtime_endpoint(
        self, runtime_id: str, name: str, version: str | None, description: str | None
    ) -> RuntimeEndpoint:
        runtime = self.get_agent_runtime(runtime_id)
        with self.lock:
            endpoint = runtime.endpoint(name)
            if name == DEFAULT:
                raise ValidationException(
                    "The DEFAULT endpoint always serves the newest version: "
                    "update the agent runtime instead."
                )
            if endpoint.status in ("CREATING", "UPDATING"):
                raise ConflictException(f"Endpoint {name} is {endpoint.status}; retry when READY.")
            version = self._existing_version(runtime, version or endpoint.target_version)
            if description is not None:
                endpoint.description = description
            endpoint.updated = now()
            alive = endpoint.process is not None and endpoint.process.alive()
            if version == endpoint.live_version and endpoint.status == "READY" and alive:
                return endpoint
            endpoint.target_version, endpoint.status, endpoint.failure_reason = (
                version,
                "UPDATING",
                None,
            )
        self._launch_in_background(runtime, endpoint, "UPDATE_FAILED")
        return endpoint

    def delete_agent_runtime_endpoint(self, runtime_id: str, name: str) -> RuntimeEndpoint:
        runtime = self.get_agent_runtime(runtime_id)
        with self.lock:
            endpoint = runtime.endpoint(name)
            if name == DEFAULT:
                raise ConflictException(
                    "The DEFAULT endpoint is removed when you delete the agent runtime."
                )
            endpoint.status = "DELETING"
            runtime.endpoints.pop(name, None)
        self._stop(endpoint)
        return endpoint

    def ensure_agent(self, runtime: AgentRuntime, endpoint: RuntimeEndpoint) -> AgentProcess | None:
        """The endpoint's agent, up: started afresh on its live version if it has exited.

        AWS starts a new microVM for a new session; here one process serves every session,
        so a crashed agent would otherwise refuse every later invocation. Like AWS, an
        invocation waits for a starting agent up to the initialization limit, then is a
        424; the agent goes on starting, for the invocations after it.
        """
        exited = None
        try:
            with endpoint.restart:
                process = endpoint.process
                if process is None or not process.alive():
                    if endpoint.live_version is None or endpoint.status == "DELETING":
                        return None  # nothing has served yet (CREATING, CREATE_FAILED), or going
                    exited, process = process, self._spawn(runtime, endpoint, endpoint.live_version)
                    endpoint.process = process
            if exited is not None:
                exited.stop()
            started = process.healthy_within(INITIALIZATION_LIMIT)
        except LaunchFailed as failure:
            raise RuntimeClientError(f"The agent did not start again: {failure}") from failure
        if not started:
            raise RuntimeClientError(INITIALIZATION_EXCEEDED)
        return process

    def _existing_version(self, runtime: AgentRuntime, version: str) -> str:
        if version not in runtime.versions:
            raise ValidationException(
                f"Agent runtime {runtime.id} has no version {version} "
                f"(its versions: {', '.join(sorted(runtime.versions, key=int))})."
            )
        return version

    def _check_artifact(self, config: dict[str, Any]) -> None:
        if "codeConfiguration" not in config["agentRuntimeArtifact"]:
            raise ValidationException(
                "The local backend runs code deployments only (agentRuntimeArtifact."
                "codeConfiguration, a zip in S3): it cannot pull or run container images."
            )

    def _launch_in_background(
        self, runtime: AgentRuntime, endpoint: RuntimeEndpoint, failed_status: str
    ) -> None:
        threading.Thread(
            target=self._launch, args=(runtime, endpoint, failed_status), daemon=True
        ).start()

    def _launch(self, runtime: AgentRuntime, endpoint: RuntimeEndpoint, failed_status: str) -> None:
        """Replace the endpoint's agent process with one running its target version.

        A launch overtaken by a newer update of the same endpoint leaves the outcome to
        that newer launch.
        """
        version = endpoint.target_version
        is_default = endpoint.name == DEFAULT
        try:
            process = self._start(runtime, endpoint, version)
        except LaunchFailed as failure:
            if endpoint.target_version == version:
                endpoint.status, endpoint.failure_reason = failed_status, str(failure)
                if is_default:
                    runtime.status, runtime.failure_reason = failed_status, str(failure)
            return
        gone = runtime.status == "DELETING" or endpoint.status == "DELETING"
        if gone or endpoint.target_version != version:
            process.stop()
            return
        with endpoint.restart:
            old, endpoint.process = endpoint.process, process
        endpoint.live_version, endpoint.status, endpoint.updated = version, "READY", now()
        if is_default:
            runtime.status, runtime.updated = "READY", now()
        if old is not None:
            old.stop()

    def _start(
        self, runtime: AgentRuntime, endpoint: RuntimeEndpoint, version: str
    ) -> AgentProcess:
        process = self._spawn(runtime, endpoint, version)
        process.wait_until_healthy()
        return process

    def _spawn(
        self, runtime: AgentRuntime, endpoint: RuntimeEndpoint, version: str
    ) -> AgentProcess:
        config = runtime.versions[version]
        code_config = config["agentRuntimeArtifact"]["codeConfiguration"]
        code = self._fetch_code(code_config["code"]["s3"])
        variables = config.get("environmentVariables") or {}
        # As on AWS, the agent acts as its execution role: its calls meet the role's policies.
        role = policies.role_credentials(self.account_id, self.region_name, config["roleArn"])
        env = agent_environment(site.base_url, self.region_name, variables, role)
        log = RuntimeLog(self.account_id, self.region_name, runtime.id, endpoint.name)
        return AgentProcess(code, code_config["entryPoint"], env, log)

    @staticmethod
    def _stop(endpoint: RuntimeEndpoint) -> None:
        endpoint.status = "DELETING"
        with endpoint.restart:
            process, endpoint.process = endpoint.process, None
        if process is not None:
            process.stop()

    def _fetch_code(self, location: dict[str, str]) -> bytes:
        s3 = s3_backends[self.account_id]["aws"]
        try:
            key = s3.get_object(location["bucket"], location["prefix"], location.get("versionId"))
        except Exception as error:  # moto's NoSuchBucket, NoSuchKey, …
            raise LaunchFailed(
                f"Could not read s3://{location['bucket']}/{location['prefix']}: {error}"
            ) from error
        if key is None:
            raise LaunchFailed(f"s3://{location['bucket']}/{location['prefix']} does not exist.")
        return key.value

    def stop_all(self) -> None:
        for runtime in list(self.runtimes.values()):
            for endpoint in list(runtime.endpoints.values()):
                if endpoint.process is not None:
                    endpoint.process.stop()

    def reset(self) -> None:
        self.stop_all()
        super().reset()


runtime_backends = agentcore_backends(RuntimeBackend)


def stop_all_agents() -> None:
    """Every agent process of every account and region: the emulator is going away."""
    for backend in every_backend(runtime_backends):
        backend.stop_all()
