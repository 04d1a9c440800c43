"""Small WSGI pieces shared by the emulator's own handlers."""

import json
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.wrappers import Response

WSGIApp = Callable[[dict, Callable], Iterable[bytes]]


def json_response(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")
