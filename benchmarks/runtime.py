"""How fast is the local AgentCore Runtime? ``make bench`` (not part of the tests).

Measures the time from CreateAgentRuntime to READY, and what the runtime adds to an
invocation (bearer-token check, workload access token, forwarding) over calling the
same agent process directly: medians of many calls, in one run.
"""

import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from pathlib import Path
from urllib.parse import quote

import requests
from bedrock_agentcore.runtime.models import ACCESS_TOKEN_HEADER, SESSION_HEADER

from benchmarks import local_workshop
from benchmarks.figures import Figure, table
from helpers import authorizer, cognito, runtime
from helpers.backend import Backend

AGENT = Path(__file__).resolve().parent.parent / "tests" / "agents" / "context_agent.py"
CALLS = 50
CREATES = 5


def _create_ready(be: Backend, code: dict, authorizer: dict) -> tuple[runtime.Runtime, float]:
    started = time.perf_counter()
    created = be.client("bedrock-agentcore-control").create_agent_runtime(
        agentRuntimeName=f"bench_{uuid.uuid4().hex[:8]}",
        agentRuntimeArtifact={
            "codeConfiguration": {
                "code": {"s3": code},
                "runtime": "PYTHON_3_11",
                "entryPoint": ["main.py"],
            }
        },
        roleArn="arn:aws:iam::123456789012:role/bench",
        networkConfiguration={"networkMode": "PUBLIC"},
        authorizerConfiguration=authorizer,
    )
    # Poll finely: the workshop's own wait backs off, which would measure its interval.
    while (ready := runtime.get_runtime(be, created["agentRuntimeId"])).status == "CREATING":
        time.sleep(0.02)
    assert ready.status == "READY", ready.failure_reason
    return ready, time.perf_counter() - started


def _timed_calls(call) -> list[float]:
    call()  # warm-up: connection pools, first-request imports
    timings = []
    for _ in range(CALLS):
        started = time.perf_counter()
        call()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def _direct_agent() -> tuple[subprocess.Popen, str, Path]:
    """The same agent served by launch.py as the local runtime serves it, without the runtime."""
    folder = Path(tempfile.mkdtemp(prefix="bench-agent-"))
    (folder / "main.py").write_text(AGENT.read_text())
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator.runtime.launch", "main.py"],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "DOCKER_CONTAINER": "1"},
    )
    port = int(process.stdout.readline().split()[1])
    url = f"http://127.0.0.1:{port}"
    while True:
        try:
            if requests.get(f"{url}/ping", timeout=1).ok:
                return process, url, folder
        except requests.ConnectionError:
            time.sleep(0.05)


def measure() -> list[Figure]:
    with local_workshop("runtime") as (url, be, ws):
        pools = cognito.ensure_pools(be, ws)
        token = cognito.bearer_token(be, pools.runtime)
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as zipped:
            zipped.write(AGENT, "main.py")
        s3 = be.client("s3")
        s3.create_bucket(Bucket="bench")
        s3.put_object(Bucket="bench", Key="agent.zip", Body=archive.getvalue())
        code = {"bucket": "bench", "prefix": "agent.zip"}
        ready_times = []
        for _ in range(CREATES):
            ready, seconds = _create_ready(be, code, authorizer.jwt_authorizer(pools.runtime))
            ready_times.append(seconds)

        # A new connection per call on both paths, as the runtime itself forwards each call.
        headers = {SESSION_HEADER: str(uuid.uuid4()), "Content-Type": "application/json"}
        invocations = f"{url}/runtimes/{quote(ready.arn, safe='')}/invocations"
        through_runtime = _timed_calls(
            lambda: requests.post(
                invocations, headers={**headers, "Authorization": f"Bearer {token}"}, data="{}"
            ).raise_for_status()
        )
        process, agent_url, folder = _direct_agent()
        try:
            direct = _timed_calls(
                lambda: requests.post(
                    f"{agent_url}/invocations",
                    headers={**headers, ACCESS_TOKEN_HEADER: "x"},
                    data="{}",
                ).raise_for_status()
            )
        finally:
            process.terminate()
            process.wait()
            shutil.rmtree(folder)

    ready_median = statistics.median(ready_times)
    through, directly = statistics.median(through_runtime), statistics.median(direct)
    return [
        Figure(f"create to READY, median of {CREATES}", round(ready_median, 2), "s"),
        Figure(f"create to READY, slowest of {CREATES}", round(max(ready_times), 2), "s"),
        Figure(f"invocation through the runtime, median of {CALLS}", round(through, 1), "ms"),
        Figure(f"invocation of the agent directly, median of {CALLS}", round(directly, 1), "ms"),
        Figure("added by the runtime per invocation", round(through - directly, 1), "ms"),
    ]


def main() -> None:
    print(table(measure()))


if __name__ == "__main__":
    main()
