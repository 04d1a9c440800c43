"""Small WSGI pieces shared by the emulator's own handlers."""

import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.wrappers import Response

WSGIApp = Callable[[dict, Callable], Iterable[bytes]]
# A SigV4 Authorization header's credential scope: who signed (the access key), for which
# region and which service.
SIGV4 = re.compile(
    r"Credential=(?P<key>[^/]+)/\d{8}/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request"
)


def json_response(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")
