"""AgentCore Runtime: agent runtimes, their versions and DEFAULT endpoint, their processes.

Create and update return at once (CREATING / UPDATING); a thread fetches the code from
S3, starts the agent and sets READY, or *_FAILED with the agent's own error output.
"""

import secrets
import string
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from moto.core.base_backend import BaseBackend
from moto.s3.models import s3_backends

from emulator import site
from emulator.backends import agentcore_backends, every_backend
from emulator.exceptions import ConflictException, ResourceNotFoundException, ValidationException
from emulator.identity.models import identity_backends, now
from emulator.runtime.process import AgentProcess, LaunchFailed, RuntimeLog, agent_environment

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


@dataclass
class AgentRuntime:
    id: str
    name: str
    arn: str
    account: str
    region: str
    workload_arn: str
    versions: dict[str, dict[str, Any]]
    status: str = "CREATING"
    failure_reason: str | None = None
    created: datetime = field(default_factory=now)
    updated: datetime = field(default_factory=now)
    process: AgentProcess | None = None

    @property
    def version(self) -> str:
        return max(self.versions, key=int)

    @property
    def config(self) -> dict[str, Any]:
        return self.versions[self.version]

    @property
    def authorizer(self) -> dict[str, Any] | None:
        return (self.config.get("authorizerConfiguration") or {}).get("customJWTAuthorizer")

    def describe(self, version: str | None = None) -> dict[str, Any]:
        config = self.versions[version or self.version]
        return {
            "agentRuntimeArn": self.arn,
            "agentRuntimeName": self.name,
            "agentRuntimeId": self.id,
            "agentRuntimeVersion": version or self.version,
            "createdAt": self.created,
            "lastUpdatedAt": self.updated,
            "status": self.status,
            "failureReason": self.failure_reason,
            "workloadIdentityDetails": {"workloadIdentityArn": self.workload_arn},
            "lifecycleConfiguration": DEFAULT_LIFECYCLE,
            **{key: value for key, value in config.items() if value is not None},
        }

    def endpoint(self, name: str) -> dict[str, Any]:
        """The DEFAULT endpoint, which always serves the newest version, as on AWS."""
        if name != "DEFAULT":
            raise ResourceNotFoundException(f"Endpoint {name} of {self.id} not found.")
        return {
            "name": "DEFAULT",
            "id": "DEFAULT",
            "agentRuntimeEndpointArn": f"{self.arn}/runtime-endpoint/DEFAULT",
            "agentRuntimeArn": self.arn,
            "liveVersion": self.version,
            "targetVersion": self.version,
            "status": self.status,
            "createdAt": self.created,
            "lastUpdatedAt": self.updated,
        }


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
            suffix = "".join(
                secrets.choice(string.ascii_letters + string.digits) for _ in range(10)
            )
            runtime_id = f"{name}-{suffix}"
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
            self.runtimes[runtime_id] = runtime
        self._launch_in_background(runtime, "CREATE_FAILED")
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
            runtime.versions[str(int(runtime.version) + 1)] = config
            runtime.status, runtime.failure_reason, runtime.updated = "UPDATING", None, now()
        self._launch_in_background(runtime, "UPDATE_FAILED")
        return runtime

    def delete_agent_runtime(self, runtime_id: str) -> AgentRuntime:
        runtime = self.get_agent_runtime(runtime_id)
        runtime.status = "DELETING"
        if runtime.process is not None:
            runtime.process.stop()
        self.identity.unlink_and_delete_workload_identity(runtime.id)
        self.runtimes.pop(runtime_id, None)
        return runtime

    def _check_artifact(self, config: dict[str, Any]) -> None:
        if "codeConfiguration" not in config["agentRuntimeArtifact"]:
            raise ValidationException(
                "The local backend runs code deployments only (agentRuntimeArtifact."
                "codeConfiguration, a zip in S3): it cannot pull or run container images."
            )

    def _launch_in_background(self, runtime: AgentRuntime, failed_status: str) -> None:
        threading.Thread(target=self._launch, args=(runtime, failed_status), daemon=True).start()

    def _launch(self, runtime: AgentRuntime, failed_status: str) -> None:
        """Replace the runtime's agent process with one running its newest version."""
        code_config = runtime.config["agentRuntimeArtifact"]["codeConfiguration"]
        old = runtime.process
        try:
            code = self._fetch_code(code_config["code"]["s3"])
            variables = runtime.config.get("environmentVariables") or {}
            env = agent_environment(site.base_url, self.region_name, variables)
            log = RuntimeLog(self.account_id, self.region_name, runtime.id)
            process = AgentProcess(code, code_config["entryPoint"], env, log)
            process.wait_until_healthy()
        except LaunchFailed as failure:
            runtime.status, runtime.failure_reason = failed_status, str(failure)
            return
        if runtime.status == "DELETING":  # deleted while it was starting
            process.stop()
            return
        runtime.process = process
        runtime.status, runtime.updated = "READY", now()
        if old is not None:
            old.stop()

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
            if runtime.process is not None:
                runtime.process.stop()

    def reset(self) -> None:
        self.stop_all()
        super().reset()


runtime_backends = agentcore_backends(RuntimeBackend)


def stop_all_agents() -> None:
    """Every agent process of every account and region: the emulator is going away."""
    for backend in every_backend(runtime_backends):
        backend.stop_all()
