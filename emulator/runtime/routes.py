"""The runtime's routes under ``/runtimes/``: InvokeAgentRuntime, and the control plane."""

from emulator.runtime import invocations
from emulator.runtime.responses import RuntimeControlResponse
from emulator.service import wsgi_app

PREFIX = "/runtimes/"
_control = wsgi_app(RuntimeControlResponse)


def app(environ: dict, start_response):
    if environ.get("PATH_INFO", "").endswith("/invocations"):
        return invocations.app(environ, start_response)
    return _control(environ, start_response)
