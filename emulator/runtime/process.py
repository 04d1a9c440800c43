"""Agent processes of the local AgentCore Runtime, and their logs.

AWS runs a code deployment in a microVM; here the unpacked zip runs as a child process
with the workshop's own interpreter (so no aarch64 dependency bundle is needed), bound to
127.0.0.1 on a port of its own. Its output becomes the runtime's CloudWatch log, in moto,
under the log group name AWS uses.

Importing what agents import takes seconds, so agents are forked from a fork server that
has imported it already (`start_fork_server`: as a preloading emulator starts, else at the
first deploy); `READ_AT_IMPORT` says which are started afresh instead.
"""

import collections
import contextlib
import io
import multiprocessing
import multiprocessing.forkserver
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TextIO

import requests
from moto.logs.exceptions import ResourceNotFoundException
from moto.logs.models import logs_backends

from emulator.endpoints import HOST

READY_TIMEOUT = 120
# Seconds an invocation that starts an agent waits for it to answer /ping before AgentCore
# Runtime gives up with a 424 (30 s in AWS's message; tests shorten it for an emulator of
# their own). The agent goes on starting and serves the next invocation, as a microVM does.
INITIALIZATION_LIMIT = float(os.environ.get("EMULATOR_INITIALIZATION_LIMIT", "30"))
# AWS's message when an agent is not up within the limit (seen in several issues, e.g.
# aws/bedrock-agentcore-sdk-python#599, with 30s; a 60s variant was reported too).
INITIALIZATION_EXCEEDED = (
    "Runtime initialization time exceeded. Please make sure that initialization "
    f"completes in {INITIALIZATION_LIMIT:g}s."
)

# A context of our own: the default start method stays what it was.
FORK_SERVER = multiprocessing.get_context("forkserver")
# What every agent imports (launch.py, the SDK's runtime, uvicorn) and the workshop's
# agents import besides: measured, what a forked agent still imports takes milliseconds.
PRELOAD = [
    "emulator.runtime.launch",
    "bedrock_agentcore.runtime",
    "uvicorn",
    "bedrock_agentcore.identity.auth",
    "strands",
]
# The preloaded SDK and OpenTelemetry read these once, at import (endpoint overrides,
# propagators): an agent whose environment has them otherwise than the fork server's (the
# emulator's) is started afresh, and reads its own.
READ_AT_IMPORT = ("BEDROCK_AGENTCORE_", "OTEL_")


class LaunchFailed(Exception):
    """The agent did not come up; the message is what the learner needs to see."""


def log_group(runtime_id: str, endpoint: str = "DEFAULT") -> str:
    return f"/aws/bedrock-agentcore/runtimes/{runtime_id}-{endpoint}"


class RuntimeLog:
    """One log stream per agent process, in (moto's) CloudWatch Logs, under its endpoint's group."""

    def __init__(self, account: str, region: str, runtime_id: str, endpoint: str = "DEFAULT"):
        self.logs = logs_backends[account][region]
        self.group = log_group(runtime_id, endpoint)
        self.stream = f"{time.strftime('%Y/%m/%d')}/[runtime-logs]{uuid.uuid4()}"
        if self.group not in self.logs.groups:
            self.logs.create_log_group(self.group, tags={})
        self.logs.create_log_stream(self.group, self.stream)

    def write(self, line: str) -> None:
        """A line of the agent's output; dropped once its group is deleted (by cleanup, as
        the agent's last lines come in), as nothing recreates it on AWS either."""
        event = {"timestamp": int(time.time() * 1000), "message": line}
        with contextlib.suppress(ResourceNotFoundException):
            self.logs.put_log_events(self.group, self.stream, [event])


def start_fork_server() -> None:
    """Start the fork server, which imports `PRELOAD` while the emulator serves."""
    FORK_SERVER.set_forkserver_preload(PRELOAD)
    multiprocessing.forkserver.ensure_running()


def stop_fork_server() -> None:
    """Stop the fork server with the emulator. It leaves by itself only once it has imported
    `PRELOAD`: seconds of work for nothing, with the emulator's output held open."""
    pid = multiprocessing.forkserver._forkserver._forkserver_pid  # no public way to it
    if pid is not None:
        os.kill(pid, signal.SIGTERM)


def _forkable(env: dict[str, str]) -> bool:
    names = {name for name in env.keys() | os.environ.keys() if name.startswith(READ_AT_IMPORT)}
    return all(env.get(name) == os.environ.get(name) for name in names)


class _Forked:
    """An agent forked by the fork server, behind the part of `subprocess.Popen`'s
    interface `AgentProcess` uses."""

    def __init__(self, entry_point: str, workdir: Path, env: dict[str, str]):
        # Not at the top: ``python -m emulator.runtime.launch`` imports this module (through
        # its package) before it runs launch.py, which must not be imported by then.
        from emulator.runtime import launch

        read_end, write_end = os.pipe()
        self.stdout: TextIO = open(read_end)  # noqa: SIM115 (read until the agent exits)
        output = Connection(write_end, readable=False)
        self._process = FORK_SERVER.Process(
            target=launch.forked, args=(entry_point, workdir, env, output), daemon=True
        )
        try:
            self._process.start()
        finally:
            output.close()
        self.pid = self._process.pid

    def poll(self) -> int | None:
        return self._process.exitcode

    def terminate(self) -> None:
        self._process.terminate()

    def kill(self) -> None:
        self._process.kill()

    def wait(self, timeout: float | None = None) -> int:
        self._process.join(timeout)
        if self._process.exitcode is None:
            raise subprocess.TimeoutExpired(f"agent {self.pid}", timeout)
        return self._process.exitcode


class AgentProcess:
    """One running code deployment: unpacked, started, health-checked, stoppable."""

    def __init__(self, code: bytes, entry_point: list[str], env: dict[str, str], log: RuntimeLog):
        self.workdir = Path(tempfile.mkdtemp(prefix="agentcore-runtime-"))
        self.log = log
        self.tail: collections.deque[str] = collections.deque(maxlen=40)
        self.port: int | None = None
        self.healthy = False
        self._listening = threading.Event()
        try:
            zipfile.ZipFile(io.BytesIO(code)).extractall(self.workdir)
        except zipfile.BadZipFile as error:
            self._cleanup()
            raise LaunchFailed("The code artifact in S3 is not a zip file.") from error
        script = next((part for part in entry_point if part.endswith(".py")), None)
        if script is None or not (self.workdir / script).is_file():
            self._cleanup()
            raise LaunchFailed(f"The entry point {entry_point} names no Python file in the zip.")
        self.process = self._start(script, env)
        self._pump_thread = threading.Thread(target=self._pump, daemon=True)
        self._pump_thread.start()

    def _start(self, script: str, env: dict[str, str]) -> _Forked | subprocess.Popen[str]:
        if _forkable(env):
            start_fork_server()  # if the emulator did not, the first agent waits for it
            # A fork server that died importing (its traceback is in the emulator's log)
            # answers EOF: started afresh, the agent shows the learner the same error.
            with contextlib.suppress(EOFError, OSError):
                return _Forked(script, self.workdir, env)
        return subprocess.Popen(
            [sys.executable, "-m", "emulator.runtime.launch", script],
            cwd=self.workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def _pump(self) -> None:
        for line in self.process.stdout:
            line = line.rstrip("\n")
            if self.port is None and line.startswith("LISTENING "):
                self.port = int(line.split()[1])
                self._listening.set()
                continue
            self.tail.append(line)
            self.log.write(line)
        self._listening.set()

    def healthy_within(self, timeout: float) -> bool:
        """Whether /ping answers within ``timeout`` (False: still starting); LaunchFailed
        if the agent exits first. Callers may wait on the same agent at once."""
        deadline = time.monotonic() + timeout
        if not self._listening.wait(timeout):
            return False
        while not self.healthy and time.monotonic() < deadline:
            if self.process.poll() is not None or self.port is None:
                self._failed()
            self.healthy = self._answers_ping(timeout=2)
            if not self.healthy:
                time.sleep(0.1)
        return self.healthy

    def wait_until_healthy(self, timeout: float = READY_TIMEOUT) -> None:
        if not self.healthy_within(timeout):
            self._failed()

    def _failed(self) -> None:
        self.stop()
        self._pump_thread.join(timeout=5)
        output = "\n".join(self.tail) or "(no output)"
        raise LaunchFailed(f"The agent did not become healthy. Its output:\n{output}")

    def alive(self) -> bool:
        """Running, and not on its way out. A killed agent's main thread shows as a zombie
        while its other threads still hold its socket, and it cannot be reaped until they
        are gone: a request sent then is refused or reset. A forked agent's exit reaches
        poll() a moment after the fork server has reaped it: gone from /proc, it is gone."""
        if self.process.poll() is not None:
            return False
        try:
            stat = Path(f"/proc/{self.process.pid}/stat").read_text()
        except OSError:  # reaped, or no /proc (macOS): then what poll() says is all there is
            return not Path("/proc/self").exists()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"

    def settle(self, timeout: float = 2.0) -> None:
        """After a request it did not answer: wait until the agent has exited or answers
        /ping, so that the next invocation finds it one or the other. An agent that dies
        (a crash, SIGKILL) closes its socket a moment before `alive` can tell, and an
        invocation sent then would be refused instead of starting it afresh."""
        deadline = time.monotonic() + timeout
        while self.alive() and time.monotonic() < deadline:
            if self._answers_ping(timeout=0.5):
                return
            time.sleep(0.02)

    def _answers_ping(self, timeout: float) -> bool:
        try:
            return requests.get(f"{self.url}/ping", timeout=timeout).ok
        except requests.RequestException:
            return False

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._cleanup()

    def _cleanup(self) -> None:
        shutil.rmtree(self.workdir, ignore_errors=True)


def agent_environment(
    base_url: str, region: str, variables: dict[str, str], credentials: dict[str, str]
) -> dict[str, str]:
    """What a deployed agent sees: its variables, the runtime's markers, AWS = this emulator,
    and ``credentials`` (its execution role's, `emulator.policies.role_credentials`)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BEDROCK_AGENTCORE_"))}
    return (
        env
        | variables
        | {
            "DOCKER_CONTAINER": "1",
            "PYTHONUNBUFFERED": "1",
            "AWS_ENDPOINT_URL": base_url,
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
        }
        | credentials
    )
