"""AgentCore Runtime: the control plane and InvokeAgentRuntime under ``/runtimes/``.

moto 5.2 has a ``bedrockagentcorecontrol`` backend of its own that answers the runtime
operations (records only: nothing runs, no authorizer, no workload identity). Our router
sends every ``/runtimes/`` request signed for ``bedrock-agentcore`` (and every unsigned
invocation) here before moto sees it, so moto's runtimes are shadowed; its gateways,
memories and tags (other paths) still reach moto. moto's ``bedrockagentcore`` data plane
has no InvokeAgentRuntime and no Identity operations, and moto has no Identity control
plane: `emulator.identity` serves ``/identities/`` alone. See ``emulator/README.md``.
"""

from emulator.runtime import invocations
from emulator.runtime.models import stop_all_agents
from emulator.runtime.responses import RuntimeControlResponse
from emulator.service import wsgi_app

PREFIX = "/runtimes/"
_control = wsgi_app(RuntimeControlResponse)

__all__ = ["PREFIX", "app", "stop_all_agents"]


def app(environ: dict, start_response):
    if environ.get("PATH_INFO", "").endswith("/invocations"):
        return invocations.app(environ, start_response)
    return _control(environ, start_response)
