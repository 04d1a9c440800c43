"""The local backend's trace: the hops inside a consent flow, for the notebook to draw."""

import requests

from emulator import endpoints
from emulator.trace import KEPT_SESSIONS, Hop, Traces
from helpers import calls
from tests.support import http_error_of


def test_the_trace_names_the_session_it_is_asked_for(emulator_url):
    missing = requests.get(emulator_url + endpoints.TRACE_PATH, timeout=10)
    assert http_error_of(missing)[:2] == (400, "ValidationException")
    unknown = requests.get(
        emulator_url + endpoints.TRACE_PATH, params={"session": "no-such-session"}, timeout=10
    )
    assert unknown.json() == {"session": "no-such-session", "hops": []}


def test_the_trace_and_the_diagram_name_the_same_participants():
    named = {endpoints.BROWSER, endpoints.RUNTIME, endpoints.AGENT}
    named |= {endpoints.IDENTITY, endpoints.COGNITO}
    assert named <= set(calls.PARTICIPANTS)


def test_the_trace_keeps_the_latest_sessions_only():
    traces = Traces()
    for number in range(KEPT_SESSIONS + 1):
        traces.add(f"session-{number}", Hop(0.0, "Runtime", "Agent", "POST /invocations"))
    assert traces.of("session-0") == []
    assert traces.of(f"session-{KEPT_SESSIONS}")[0]["label"] == "POST /invocations"
