"""Every AWS error the local backend answers with: one base class, one serializer.

Each error carries its AWS code (its class name, as in moto) and the HTTP status the
botocore models give it (``httpStatusCode``). The serializer writes what botocore parses
into a ``ClientError``: the code in ``x-amzn-ErrorType`` and ``__type``, the message in
``message``, and a request id as AWS sends with every answer. Identity, Runtime (control
plane and invocations) and the Bedrock stand-in all raise these; `emulator.server`
answers any other exception, a bug of ours, as a 500 after logging its traceback.
"""

import json
import logging
import uuid
from xml.sax.saxutils import escape

from werkzeug.wrappers import Response

log = logging.getLogger("emulator")

Serialized = tuple[int, dict[str, str], str]


class AwsError(Exception):
    code: str
    status: int

    def __init_subclass__(cls, status: int, code: str | None = None, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        cls.code, cls.status = code or cls.__name__, status

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def serialized(self) -> Serialized:
        headers = {
            "Content-Type": "application/json",
            "x-amzn-ErrorType": self.code,
            "x-amzn-RequestId": str(uuid.uuid4()),
        }
        return self.status, headers, json.dumps({"__type": self.code, "message": self.message})

    def response(self) -> Response:
        status, headers, body = self.serialized()
        return Response(body, status=status, headers=headers)


class SerializationException(AwsError, status=400):
    """A JSON-protocol body that is not a JSON object of the model's types (AWS's Coral)."""


class ValidationException(AwsError, status=400):
    """The request breaks the operation's model or one of the service's rules."""


class UnauthorizedException(AwsError, status=401):
    """A bearer token the runtime's JWT authorizer refuses, or a user token Identity cannot read."""


class AccessDeniedException(AwsError, status=403):
    """Refused: a missing or wrong signature, a bad workload token, another user's session."""


class ResourceNotFoundException(AwsError, status=404):
    """No resource of that name, id or ARN in this account and region."""


class UnknownOperationException(AwsError, status=404):
    """A path under a service's prefix that names none of its operations."""


class MalformedXML(AwsError, status=400):
    """S3: a request body that is not well-formed XML, answered in S3's XML shape."""

    def serialized(self) -> Serialized:
        request_id = str(uuid.uuid4())
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<Error>'
            f"<Code>{self.code}</Code><Message>{escape(self.message)}</Message>"
            f"<RequestId>{request_id}</RequestId></Error>"
        )
        return (
            self.status,
            {"Content-Type": "application/xml", "x-amz-request-id": request_id},
            body,
        )


class ConflictException(AwsError, status=409):
    """A resource of that name exists already."""


class RuntimeClientError(AwsError, status=424):
    """InvokeAgentRuntime: the agent behind the runtime failed or is not running."""


class InternalServerException(AwsError, status=500):
    """A bug of the local backend's, answered as AWS answers its own."""


class NotImplementedByThisBackend(AwsError, status=501, code="NotImplementedException"):
    """An operation of the service's model that the local backend does not serve."""


def internal_error(error: Exception) -> InternalServerException:
    """A bug of ours: its traceback to the log, and the 500 that AWS answers for its own."""
    log.error("A handler of the local backend failed", exc_info=error)
    return InternalServerException(
        f"The local backend failed: {error!r}. Its log has the traceback."
    )
