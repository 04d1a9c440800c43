"""One exception type with sentences a learner can act on, instead of botocore tracebacks."""

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
)

HINTS = {
    "AccessDeniedException": "Your AWS identity lacks a permission this step needs.",
    "AccessDenied": "Your AWS identity lacks a permission this step needs.",
    "ExpiredTokenException": "Your AWS credentials expired: refresh them and re-run the cell.",
    "UnrecognizedClientException": "AWS does not accept these credentials: check your profile.",
    "InvalidClientTokenId": "AWS does not know these credentials: check your profile or keys.",
    "SignatureDoesNotMatch": "The secret access key does not match its key id: check it.",
    "ResourceNotFoundException": (
        "The resource is gone (deleted, or the local backend restarted): "
        "re-run the notebook that creates it."
    ),
}


class WorkshopError(RuntimeError):
    """A failed workshop step, explained in a sentence.

    ``code`` and ``reason`` are the AWS error code and message behind it, when AWS refused:
    code can branch on the code (a retry, a "gone" check), and a notebook that shows a
    refusal can show AWS's own words, without parsing the sentence.
    """

    def __init__(self, message: str, code: str | None = None, reason: str | None = None):
        super().__init__(message)
        self.code = code
        self.reason = reason

    def _render_traceback_(self) -> list[str]:
        """What IPython shows in place of a traceback: the sentence is the whole story, and
        frames from deep inside the helpers would only bury it (``%debug`` still has them)."""
        return [f"{type(self).__name__}: {self}"]


@contextmanager
def explain(action: str) -> Iterator[None]:
    """Turn AWS client errors raised while doing ``action`` into a `WorkshopError`."""
    try:
        yield
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "Error")
        message = error.response.get("Error", {}).get("Message", "")
        hint = HINTS.get(code, "")
        sentence = f"{action} failed: {code}: {message} {hint}".strip()
        raise WorkshopError(sentence, code, message) from error
    except NoCredentialsError as error:
        raise WorkshopError(
            f"{action} failed: no AWS credentials found. Configure a profile "
            "(aws configure / aws sso login) or set AWS_PROFILE."
        ) from error
    except NoRegionError as error:
        raise WorkshopError(f"{action} failed: no AWS region; set REGION.") from error
    except EndpointConnectionError as error:
        raise WorkshopError(
            f"{action} failed: could not reach {error.kwargs.get('endpoint_url')}. "
            "If you use the local backend, it has stopped: re-run the cell to start it again."
        ) from error
