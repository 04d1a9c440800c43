"""The AWS calls a notebook made, recorded as the learner's code made them, secrets masked.

botocore announces every API call on the session's event system, on AWS and locally
alike, so the recorder never asks which backend it is on. Calls boto3 cannot make
(invoking a runtime with a bearer token) are recorded by the helper that makes them.
"""

import time
from dataclasses import dataclass, field
from typing import Any

from helpers.display import Table, mask

# Request members that carry a secret, beyond names that end like one (see `secret`).
SECRET_MEMBERS = {"AuthParameters", "SECRET_HASH", "userToken", "apiKey", "code"}
SHORT = 48  # characters of a parameter value shown in the table
_STARTED = "workshop.call"  # where a call's start waits in botocore's request context


def secret(name: str) -> bool:
    lowered = name.lower()
    return name in SECRET_MEMBERS or lowered.endswith(("password", "secret", "token"))


def summary(parameters: dict[str, Any]) -> str:
    """The request's top-level members, short, every secret masked."""
    return ", ".join(f"{name}={_short(name, value)}" for name, value in parameters.items())


def _short(name: str, value: Any) -> str:
    if secret(name) and isinstance(value, str | dict):
        return mask(str(value))
    if isinstance(value, dict):
        return "{" + ", ".join(value) + "}"
    if isinstance(value, list | tuple):
        return f"[{len(value)}]"
    if not isinstance(value, str | int | float | bool):  # a stream, bytes: S3's Body
        return f"<{type(value).__name__}>"
    text = str(value)
    return text if len(text) <= SHORT else text[: SHORT - 1] + "…"


@dataclass(frozen=True)
class Call:
    service: str
    operation: str
    parameters: str  # already summarized and masked: secrets never reach the record
    status: int | None
    error: str | None
    milliseconds: float


@dataclass
class CallLog:
    """Every call in order; the last expression of a cell shows them as a table."""

    calls: list[Call] = field(default_factory=list)

    def attach(self, session) -> None:
        """Record every API call of the clients ``session`` (a boto3 Session) creates."""
        session.events.register("before-parameter-build", self._started)
        session.events.register("after-call", self._answered)
        session.events.register("after-call-error", self._failed)

    def _started(self, params: dict, model, context: dict, **_: Any) -> None:
        service = model.service_model.service_name
        context[_STARTED] = (time.perf_counter(), service, model.name, summary(params))

    def _answered(self, http_response, parsed: dict, context: dict, **_: Any) -> None:
        error = parsed.get("Error", {}).get("Code") if isinstance(parsed, dict) else None
        self._add(context, http_response.status_code, error)

    def _failed(self, exception: Exception, context: dict, **_: Any) -> None:
        self._add(context, None, type(exception).__name__)

    def _add(self, context: dict, status: int | None, error: str | None) -> None:
        if _STARTED in context:
            started, service, operation, parameters = context.pop(_STARTED)
            elapsed = (time.perf_counter() - started) * 1000
            self.calls.append(Call(service, operation, parameters, status, error, elapsed))

    def record(self, call: Call) -> None:
        """A call made without boto3 (plain HTTPS), recorded by the helper that made it."""
        self.calls.append(call)

    def operations(self) -> list[str]:
        return [call.operation for call in self.calls]

    def table(self) -> Table:
        return Table(
            [
                {
                    "#": number,
                    "Service": call.service,
                    "Operation": call.operation,
                    "Parameters": call.parameters,
                    "Status": call.error or call.status,
                    "ms": f"{call.milliseconds:.0f}",
                }
                for number, call in enumerate(self.calls, 1)
            ]
        )

    def _repr_html_(self) -> str:
        return self.table()._repr_html_()

    def __repr__(self) -> str:
        return repr(self.table()) if self.calls else "(no AWS calls)"
