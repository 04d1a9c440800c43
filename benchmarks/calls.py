"""What recording a call costs. ``make bench`` (not part of the tests); goal: under 1 ms.

The recorder's own work per call (its two botocore event handlers, on a real operation
model and a request with a nested secret), then a real call with and without it; and
what the local backend's trace adds to each hop it keeps.
"""

import statistics
import time

import boto3

from benchmarks import local_workshop
from benchmarks.figures import Figure, table
from emulator.trace import Traces
from helpers.backend import LOCAL_CREDENTIALS
from helpers.calls import CallLog

CALLS = 10_000
REAL_CALLS = 200
GOAL_US = 1000.0  # what the recorder may add to a call: under 1 ms


class _Answer:
    status_code = 200


def _handler_cost() -> float:
    """Microseconds the recorder adds per call, its handlers timed alone."""
    client = boto3.client("cognito-idp", region_name="us-east-1", **LOCAL_CREDENTIALS)
    model = client.meta.service_model.operation_model("InitiateAuth")
    params = {
        "ClientId": "c" * 26,
        "AuthFlow": "USER_PASSWORD_AUTH",
        "AuthParameters": {"USERNAME": "testuser", "PASSWORD": "p" * 16},
    }
    log = CallLog()
    started = time.perf_counter()
    for _ in range(CALLS):
        context: dict = {}
        log._started(params=params, model=model, context=context)
        log._answered(http_response=_Answer(), parsed={}, context=context)
    return (time.perf_counter() - started) / CALLS * 1e6


def _trace_cost() -> float:
    """Microseconds the local backend's trace adds to one hop of a consent flow."""
    traces = Traces()
    started = time.perf_counter()
    for number in range(CALLS):
        with traces.hop(f"session-{number // 50}", "Runtime", "Agent", "POST /invocations"):
            pass
    return (time.perf_counter() - started) / CALLS * 1e6


def _real_call_ms(client) -> float:
    timings = []
    for _ in range(REAL_CALLS):
        started = time.perf_counter()
        client.get_caller_identity()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def measure() -> list[Figure]:
    with local_workshop("calls") as (url, be, _):
        bare = boto3.Session(region_name="us-east-1", **LOCAL_CREDENTIALS)
        plain = bare.client("sts", endpoint_url=url)
        recorded = be.client("sts")
        _real_call_ms(plain), _real_call_ms(recorded)  # warm-up
        return [
            Figure(
                f"recorder per call, mean of {CALLS:,}", round(_handler_cost(), 1), "µs", GOAL_US
            ),
            Figure(f"trace per hop, mean of {CALLS:,}", round(_trace_cost(), 1), "µs"),
            Figure(
                f"STS call without recorder, median of {REAL_CALLS}",
                round(_real_call_ms(plain), 2),
                "ms",
            ),
            Figure(
                f"STS call with recorder, median of {REAL_CALLS}",
                round(_real_call_ms(recorded), 2),
                "ms",
            ),
        ]


def main() -> None:
    print(table(measure()))


if __name__ == "__main__":
    main()
