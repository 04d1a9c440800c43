"""Agent processes of the local AgentCore Runtime, and their logs.

AWS runs a code deployment in a microVM; here the unpacked zip runs as a child process
with the workshop's own interpreter (so no aarch64 dependency bundle is needed), bound to
127.0.0.1 on a port of its own. Its output becomes the runtime's CloudWatch log, in moto,
under the log group name AWS uses.
"""

import collections
import io
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from pathlib import Path

import requests
from moto.logs.models import logs_backends

from emulator.endpoints import HOST

READY_TIMEOUT = 120


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
        event = {"timestamp": int(time.time() * 1000), "message": line}
        self.logs.put_log_events(self.group, self.stream, [event])


class AgentProcess:
    """One running code deployment: unpacked, started, health-checked, stoppable."""

    def __init__(self, code: bytes, entry_point: list[str], env: dict[str, str], log: RuntimeLog):
        self.workdir = Path(tempfile.mkdtemp(prefix="agentcore-runtime-"))
        self.log = log
        self.tail: collections.deque[str] = collections.deque(maxlen=40)
        self.port: int | None = None
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
        self.process = subprocess.Popen(
            [sys.executable, "-m", "emulator.runtime.launch", script],
            cwd=self.workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._pump_thread = threading.Thread(target=self._pump, daemon=True)
        self._pump_thread.start()

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

    def wait_until_healthy(self, timeout: float = READY_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        self._listening.wait(timeout)
        while time.monotonic() < deadline and self.process.poll() is None and self.port:
            try:
                if requests.get(f"{self.url}/ping", timeout=2).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        self._pump_thread.join(timeout=5)
        output = "\n".join(self.tail) or "(no output)"
        raise LaunchFailed(f"The agent did not become healthy. Its output:\n{output}")

    def alive(self) -> bool:
        """Running, and not on its way out. A killed agent's main thread shows as a zombie
        while its other threads still hold its socket, and it cannot be reaped until they
        are gone: a request sent then is refused or reset."""
        if self.process.poll() is not None:
            return False
        try:
            stat = Path(f"/proc/{self.process.pid}/stat").read_text()
        except OSError:  # no /proc (macOS): what poll() says is all there is
            return True
        return stat.rsplit(")", 1)[1].split()[0] != "Z"

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


def agent_environment(base_url: str, region: str, variables: dict[str, str]) -> dict[str, str]:
    """What a deployed agent sees: its variables, the runtime's markers, AWS = this emulator."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BEDROCK_AGENTCORE_"))}
    return (
        env
        | variables
        | {
            "DOCKER_CONTAINER": "1",
            "PYTHONUNBUFFERED": "1",
            "AWS_ENDPOINT_URL": base_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
        }
    )
