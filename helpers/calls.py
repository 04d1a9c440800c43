"""The AWS calls a notebook made, recorded as the learner's code made them, secrets masked.

botocore announces every API call on the session's event system, on AWS and locally
alike, so the recorder never asks which backend it is on. Calls boto3 cannot make
(invoking a runtime with a bearer token) are recorded by the helper that makes them.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from botocore import xform_name
from IPython.display import Code, Markdown

from helpers.display import Table

# Request members that carry a secret, beyond names that end like one (see `secret`).
SECRET_MEMBERS = {"AuthParameters", "SECRET_HASH", "userToken", "apiKey"}
SHORT = 48  # characters of a parameter value shown in the table
_STARTED = "workshop.call"  # where a call's start waits in botocore's request context


def secret(name: str) -> bool:
    lowered = name.lower()
    return name in SECRET_MEMBERS or lowered.endswith(("password", "secret", "token"))


def redacted(parameters: dict[str, Any], hidden: bool = False) -> dict[str, Any]:
    """A copy to keep and show: each secret replaced by a named placeholder, streams too."""

    def value_of(name: str, value: Any, hide: bool) -> Any:
        if isinstance(value, dict):
            return redacted(value, hide)
        if isinstance(value, list | tuple):
            return [value_of(name, item, hide) for item in value]
        if isinstance(value, str) and hide:
            return f"<{name}>"
        if value is None or isinstance(value, str | int | float | bool):
            return value
        return f"<{name}: {type(value).__name__}>"

    return {name: value_of(name, v, hidden or secret(name)) for name, v in parameters.items()}


def summary(parameters: dict[str, Any]) -> str:
    """The request's top-level members, short, secrets as their placeholders."""
    return ", ".join(f"{name}={_short(value)}" for name, value in redacted(parameters).items())


def _short(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(value) + "}"
    if isinstance(value, list):
        return f"[{len(value)}]"
    text = str(value)
    return text if len(text) <= SHORT else text[: SHORT - 1] + "…"


@dataclass(frozen=True)
class Call:
    service: str
    operation: str
    request: dict[str, Any]  # `redacted`: secrets never reach the record
    status: int | None
    error: str | None
    milliseconds: float
    code: str | None = None  # how a learner writes it, where boto3 cannot (plain HTTPS)
    started: float = field(default_factory=time.time)  # epoch seconds: merges with the server's

    @property
    def parameters(self) -> str:
        return summary(self.request)

    def snippet(self) -> str:
        """The call as boto3 code, with placeholders where the secrets were."""
        if self.code is not None:
            return self.code
        arguments = "".join(
            f"    {name}={_literal(value, 4)},\n" for name, value in self.request.items()
        )
        call = f"client.{xform_name(self.operation)}(" + (f"\n{arguments})" if arguments else ")")
        return f'client = boto3.client("{self.service}")\n{call}'


def http_call(service: str, method: str, url: str, status: int, seconds: float) -> Call:
    """A plain HTTP request that ended just now, as a call.

    The query's values are left out: they are what must never be shown (authorization
    codes, OAuth state, sessions).
    """
    parts = urlsplit(url)
    names = "&".join(dict.fromkeys(name for name, _ in parse_qsl(parts.query)))
    return Call(
        service=service,
        operation=f"{method} {parts.path}" + (f"?{names}" if names else ""),
        request={"host": parts.netloc},
        status=status,
        error=None,
        milliseconds=seconds * 1000,
        started=time.time() - seconds,
    )


# Who takes part in the consent flow: the diagram's ids (a server's trace uses the same), and
# what it calls them.
YOU, BROWSER, RUNTIME, AGENT = "You", "Browser", "Runtime", "Agent"
IDENTITY, COGNITO, BINDING = "Identity", "Cognito", "Binding"
PARTICIPANTS = {
    YOU: "Notebook (you)",
    BROWSER: "Browser",
    RUNTIME: "AgentCore Runtime",
    AGENT: "Agent",
    IDENTITY: "AgentCore Identity",
    COGNITO: "Cognito hosted UI",
    BINDING: "Session-binding page",
}
# What the notebook cannot see on AWS; the local backend's trace shows them.
UNSEEN_ON_AWS = (
    "Not visible from here on AWS: the JWT authorizer's check, the runtime calling the agent, "
    "the agent's GetResourceOauth2Token, the code exchange and the vaulting of the token"
)


@dataclass(frozen=True)
class Arrow:
    started: float
    source: str
    target: str
    label: str
    status: int | str | None
    milliseconds: float

    def line(self) -> str:
        return (
            f"    {self.source}->>{self.target}: {self.label} → {self.status} "
            f"({self.milliseconds:.0f} ms)"
        )


def _arrow(call: Call) -> Arrow | None:
    """The arrow ``call`` draws in the consent flow; None: not part of it."""
    if call.operation == "InvokeAgentRuntime":
        session = call.request.get("runtimeSessionId", "")[:8]
        who = (YOU, RUNTIME, f"InvokeAgentRuntime, bearer token, session {session}…")
    elif call.operation == "CompleteResourceTokenAuth":
        who = (BINDING, IDENTITY, "CompleteResourceTokenAuth")
    elif call.service == "browser":
        who = (BROWSER, *_browser_hop(call.operation))
    else:
        return None
    return Arrow(call.started, *who, call.error or call.status, call.milliseconds)


def _browser_hop(operation: str) -> tuple[str, str]:
    method, path = operation.split(" ", 1)
    if "session_id" in path:
        return BINDING, "return URL, with session_id"
    if "/identities/oauth2/authorize" in path:
        return IDENTITY, "open the authorization URL"
    if "/identities/oauth2/callback" in path:
        return IDENTITY, "provider callback, with the code"
    if method == "POST":
        return COGNITO, "sign in (username, password)"
    return COGNITO, "authorize" if path.endswith("/oauth2/authorize") else "sign-in page"


def _literal(value: Any, indent: int) -> str:
    """``value`` as Python source: on one line if short, else one member a line."""
    flat = repr(value)
    if len(flat) <= 60 or not isinstance(value, dict | list) or not value:
        return flat
    inner = " " * (indent + 4)
    if isinstance(value, dict):
        members = [f"{inner}{key!r}: {_literal(item, indent + 4)}," for key, item in value.items()]
        return "{\n" + "\n".join(members) + "\n" + " " * indent + "}"
    members = [f"{inner}{_literal(item, indent + 4)}," for item in value]
    return "[\n" + "\n".join(members) + "\n" + " " * indent + "]"


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
        # botocore fills idempotency tokens itself: they are not the learner's to write.
        written = {k: v for k, v in params.items() if k not in model.idempotent_members}
        request = redacted(written)
        context[_STARTED] = (time.time(), time.perf_counter(), service, model.name, request)

    def _answered(self, http_response, parsed: dict, context: dict, **_: Any) -> None:
        error = parsed.get("Error", {}).get("Code") if isinstance(parsed, dict) else None
        self._add(context, http_response.status_code, error)

    def _failed(self, exception: Exception, context: dict, **_: Any) -> None:
        self._add(context, None, type(exception).__name__)

    def _add(self, context: dict, status: int | None, error: str | None) -> None:
        if _STARTED in context:
            started, clock, service, operation, request = context.pop(_STARTED)
            elapsed = (time.perf_counter() - clock) * 1000
            self.calls.append(
                Call(service, operation, request, status, error, elapsed, started=started)
            )

    def record(self, call: Call) -> None:
        """A call made without boto3 (plain HTTPS), recorded by the helper that made it."""
        self.calls.append(call)

    def hook(self, service: str) -> Callable[..., None]:
        """A `requests` response hook recording each request as a call of ``service``."""

        def record(response, *args: Any, **kwargs: Any) -> None:
            elapsed = response.elapsed.total_seconds()
            request = response.request
            self.record(
                http_call(service, request.method, request.url, response.status_code, elapsed)
            )

        return record

    def sequence_diagram(self, session_id: str, server_hops: list[dict] | None = None) -> Markdown:
        """The consent flow of runtime session ``session_id``: a Mermaid sequence diagram.

        Arrows are this notebook's own calls, and ``server_hops`` (the local backend's
        trace of the same session) where there are any; None, as on AWS, adds a note on
        what the notebook cannot see. The browser's hops come from the server's trace
        when it has them, else from a sign-in done in code.
        """
        arrows = [Arrow(**hop) for hop in server_hops or []]
        for call in self.calls:
            arrow = _arrow(call)
            if arrow is None:
                continue
            if call.operation == "InvokeAgentRuntime" and (
                call.request.get("runtimeSessionId") != session_id
            ):
                continue
            if server_hops is not None and arrow.source == BROWSER and arrow.target != BINDING:
                continue  # the server saw the same request
            arrows.append(arrow)
        lines = ["sequenceDiagram"]
        lines += [f"    participant {name} as {label}" for name, label in PARTICIPANTS.items()]
        lines += [arrow.line() for arrow in sorted(arrows, key=lambda a: a.started)]
        if server_hops is None:
            lines.append(f"    Note over {RUNTIME},{IDENTITY}: {UNSEEN_ON_AWS}")
        return Markdown("```mermaid\n" + "\n".join(lines) + "\n```")

    def snippets(self, *operations: str) -> Code:
        """How to make each of ``operations`` (as last called here) in your own code."""
        parts = []
        for operation in operations:
            made = [call for call in self.calls if call.operation == operation]
            parts.append(
                f"# {operation}\n{made[-1].snippet()}"
                if made
                else f"# {operation}: not called in this run (what it made exists already;"
                " run 13_cleanup and this notebook again to see it)"
            )
        return Code("import boto3\n\n" + "\n\n".join(parts), language="python")

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
