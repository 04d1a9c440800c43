"""AgentCore Identity: the control plane and the data plane under ``/identities/``."""

from moto.core.utils import get_service_model

from emulator.identity.responses import IdentityControlResponse, IdentityDataResponse
from emulator.service import wsgi_app

PREFIX = "/identities/"
_DATA_PLANE = get_service_model("bedrock-agentcore")
DATA_PLANE_PATHS = {
    _DATA_PLANE.operation_model(name).http["requestUri"]
    for name in _DATA_PLANE.operation_names
    if _DATA_PLANE.operation_model(name).http["requestUri"].startswith(PREFIX)
}
_control, _data = wsgi_app(IdentityControlResponse), wsgi_app(IdentityDataResponse)


def app(environ: dict, start_response):
    """Both planes share the prefix; the data plane's paths come from its botocore model."""
    plane = _data if environ.get("PATH_INFO") in DATA_PLANE_PATHS else _control
    return plane(environ, start_response)
