"""AgentCore Runtime: the control plane and InvokeAgentRuntime under ``/runtimes/``."""

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
