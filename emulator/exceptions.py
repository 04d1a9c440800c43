"""Every AWS error the local backend answers with: one base class, one serializer.

Each error carries its AWS code and the HTTP status AWS documents for it (the botocore
models' ``httpStatusCode``). The serializer writes what botocore parses into a
``ClientError``: the code in ``x-amzn-ErrorType`` and ``__type``, the message in
``message``. Identity, Runtime (control plane and invocations) and the Bedrock stand-in
all raise these; `emulator.server` answers any other exception, a bug of ours, as a 500
after logging its traceback.
"""

import json
import logging

from werkzeug.wrappers import Response

log = logging.getLogger("emulator")

Serialized = tuple[int, dict[str, str], str]


class AwsError(Exception):
    code = "InternalServerException"
    status = 500

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def serialized(self) -> Serialized:
        body = json.dumps({"__type": self.code, "message": self.message})
        return (
            self.status,
            {"Content-Type": "application/json", "x-amzn-ErrorType": self.code},
            body,
        )

    def response(self) -> Response:
        status, headers, body = self.serialized()
        return Response(body, status=status, headers=headers)


class ValidationException(AwsError):
    code, status = "ValidationException", 400


class UnauthorizedException(AwsError):
    code, status = "UnauthorizedException", 401


class AccessDeniedException(AwsError):
    code, status = "AccessDeniedException", 403


class ResourceNotFoundException(AwsError):
    code, status = "ResourceNotFoundException", 404


class ConflictException(AwsError):
    code, status = "ConflictException", 409


class RuntimeClientError(AwsError):
    """The agent behind a runtime failed or is not running (InvokeAgentRuntime)."""

    code, status = "RuntimeClientError", 424


class InternalServerException(AwsError):
    pass


class NotImplementedByThisBackend(AwsError):
    """An operation of the model that the local backend does not serve."""

    code, status = "NotImplementedException", 501


def internal_error(error: Exception) -> InternalServerException:
    """A bug of ours: its traceback to the log, and the 500 that AWS answers for its own."""
    log.error("A handler of the local backend failed", exc_info=error)
    return InternalServerException(
        f"The local backend failed: {error!r}. Its log has the traceback."
    )
