"""The hops of a consent flow that happen inside the service, for the notebook to draw.

A notebook sees its own requests; what AgentCore Runtime, the agent, AgentCore Identity
and Cognito do in between it cannot see (on AWS, nobody can). Here each of those hops is
kept under the runtime session id that started it: the runtime puts the session in the
workload access token it mints, the authorization session inherits it, and the OAuth
``state`` leads the hosted UI's pages back to it. `TRACE_PATH` answers one session's hops.
Labels name what happened, never a token, code or password.
"""

import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass

from werkzeug.wrappers import Request

from emulator.exceptions import AwsError, ValidationException
from emulator.wsgi import WSGIApp, json_response

KEPT_SESSIONS = 200  # the oldest session's hops go first
KEPT_HOPS = 100  # per session
_MARK = "emulator.trace"  # where a page names its session and label, for `served`


@dataclass
class Hop:
    started: float  # epoch seconds, as the notebook's own records
    source: str
    target: str
    label: str
    status: int | str = "OK"  # HTTP status, or the error code
    milliseconds: float = 0.0


class Traces:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hops: OrderedDict[str, list[Hop]] = OrderedDict()
        self._aliases: OrderedDict[str, str] = OrderedDict()

    def add(self, session: str | None, hop: Hop) -> None:
        if not session:
            return
        with self._lock:
            hops = self._hops.setdefault(session, [])
            if len(hops) < KEPT_HOPS:
                hops.append(hop)
            self._hops.move_to_end(session)
            while len(self._hops) > KEPT_SESSIONS:
                self._hops.popitem(last=False)

    @contextmanager
    def hop(self, session: str | None, source: str, target: str, label: str) -> Iterator[Hop]:
        """Record what the block does as one hop: its time, and its error code if it fails."""
        hop = Hop(time.time(), source, target, label)
        started = time.perf_counter()
        try:
            yield hop
        except AwsError as error:
            hop.status = error.code
            raise
        finally:
            hop.milliseconds = (time.perf_counter() - started) * 1000
            self.add(session, hop)

    def alias(self, key: str, session: str | None) -> None:
        """Let requests that carry ``key`` (an OAuth state) count as ``session``'s."""
        if session:
            with self._lock:
                self._aliases[key] = session
                while len(self._aliases) > KEPT_SESSIONS:
                    self._aliases.popitem(last=False)

    def session_of(self, key: str | None) -> str | None:
        with self._lock:
            return self._aliases.get(key) if key else None

    def of(self, session: str) -> list[dict]:
        with self._lock:
            return [asdict(hop) for hop in self._hops.get(session, [])]

    def app(self, environ: dict, start_response):
        session = Request(environ).args.get("session")
        if not session:
            raise ValidationException("Name the runtime session: ?session=<runtime session id>.")
        return json_response({"session": session, "hops": self.of(session)})(
            environ, start_response
        )


TRACES = Traces()


def mark(environ: dict, session: str | None, label: str) -> None:
    """Name the session and label of the page being served (see `served`)."""
    if session:
        environ[_MARK] = (session, label)


def served(app: WSGIApp, source: str, target: str) -> WSGIApp:
    """``app`` with each page it `mark`s recorded as a hop from ``source`` to ``target``."""

    def recorded(environ: dict, start_response):
        started, clock = time.time(), time.perf_counter()
        status: list[str] = []

        def start(code: str, headers, exc_info=None):
            status.append(code)
            return start_response(code, headers, exc_info)

        body = app(environ, start)
        if _MARK in environ and status:
            session, label = environ[_MARK]
            milliseconds = (time.perf_counter() - clock) * 1000
            code = int(status[0].split()[0])
            TRACES.add(session, Hop(started, source, target, label, code, milliseconds))
        return body

    return recorded
