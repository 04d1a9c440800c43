"""AgentCore Runtime's control plane over HTTP, thin over `models.py`."""

from moto.core.responses import ActionResult

from emulator import policies
from emulator.runtime.models import CONFIGURATION, RuntimeBackend, runtime_backends
from emulator.service import ModelResponse


class RuntimeControlResponse(ModelResponse):
    SERVICE = "bedrock-agentcore-control"

    @property
    def backend(self) -> RuntimeBackend:
        return runtime_backends[self.current_account][self.region]

    def _config(self) -> dict:
        """The new version's configuration, once the caller may pass its role to us."""
        config = {key: self._get_param(key) for key in CONFIGURATION}
        policies.authorize(
            self.headers,
            "iam:PassRole",
            [config["roleArn"]],
            {"iam:PassedToService": "bedrock-agentcore.amazonaws.com"},
        )
        return config

    def create_agent_runtime(self) -> ActionResult:
        runtime = self.backend.create_agent_runtime(
            self._get_param("agentRuntimeName"), self._config()
        )
        return ActionResult(runtime.describe())

    def update_agent_runtime(self) -> ActionResult:
        runtime = self.backend.update_agent_runtime(
            self._get_param("agentRuntimeId"), self._config()
        )
        return ActionResult(runtime.describe())

    def get_agent_runtime(self) -> ActionResult:
        runtime = self.backend.get_agent_runtime(self._get_param("agentRuntimeId"))
        return ActionResult(runtime.describe(self._get_param("agentRuntimeVersion")))

    def delete_agent_runtime(self) -> ActionResult:
        runtime = self.backend.delete_agent_runtime(self._get_param("agentRuntimeId"))
        return ActionResult(
            {
                "status": "DELETING",
                "agentRuntimeId": runtime.id,
                "agentRuntimeVersion": runtime.version,
            }
        )

    def list_agent_runtimes(self) -> ActionResult:
        runtimes = [r.summary() for r in list(self.backend.runtimes.values())]
        return self.paginated(runtimes, "agentRuntimes", lambda r: r["agentRuntimeId"])

    def list_agent_runtime_versions(self) -> ActionResult:
        runtime = self.backend.get_agent_runtime(self._get_param("agentRuntimeId"))
        versions = [runtime.summary(v) for v in sorted(runtime.versions, key=int, reverse=True)]
        return self.paginated(versions, "agentRuntimes", lambda r: r["agentRuntimeVersion"])

    def create_agent_runtime_endpoint(self) -> ActionResult:
        runtime_id = self._get_param("agentRuntimeId")
        endpoint = self.backend.create_agent_runtime_endpoint(
            runtime_id,
            self._get_param("name"),
            self._get_param("agentRuntimeVersion"),
            self._get_param("description"),
        )
        described = endpoint.describe()
        return ActionResult(
            described | {"agentRuntimeId": runtime_id, "endpointName": endpoint.name}
        )

    def get_agent_runtime_endpoint(self) -> ActionResult:
        runtime = self.backend.get_agent_runtime(self._get_param("agentRuntimeId"))
        return ActionResult(runtime.endpoint(self._get_param("endpointName")).describe())

    def update_agent_runtime_endpoint(self) -> ActionResult:
        endpoint = self.backend.update_agent_runtime_endpoint(
            self._get_param("agentRuntimeId"),
            self._get_param("endpointName"),
            self._get_param("agentRuntimeVersion"),
            self._get_param("description"),
        )
        return ActionResult(endpoint.describe())

    def list_agent_runtime_endpoints(self) -> ActionResult:
        runtime = self.backend.get_agent_runtime(self._get_param("agentRuntimeId"))
        endpoints = [e.describe() for e in list(runtime.endpoints.values())]
        return self.paginated(endpoints, "runtimeEndpoints", lambda e: e["name"])

    def delete_agent_runtime_endpoint(self) -> ActionResult:
        runtime_id = self._get_param("agentRuntimeId")
        endpoint = self.backend.delete_agent_runtime_endpoint(
            runtime_id, self._get_param("endpointName")
        )
        return ActionResult(
            {"status": endpoint.status, "agentRuntimeId": runtime_id, "endpointName": endpoint.name}
        )
