"""Choose the backend: the offline local emulator (default) or a real AWS account.

This is the only module that knows the local backend exists. Everything else gets a
`Backend` and asks it for boto3 clients; the endpoint, credentials and region it carries
are all that differs between the two.
"""

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import requests

from emulator.endpoints import HEALTH_PATH, HOST, SERVICE_NAME, STATS_PATH, TRACE_PATH
from helpers import settings
from helpers.calls import CallLog
from helpers.errors import WorkshopError, explain
from helpers.paths import emulator_log, emulator_record, private_file
from helpers.waiting import wait_until

LOCAL, AWS = "local", "aws"
# moto's well-known test credentials: the local backend accepts any, AWS accepts none of these.
LOCAL_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@cache
def _data_loader():
    """botocore's data files (its endpoints file alone is over a megabyte of JSON), read once
    in a process: every backend's session loads them through this one loader."""
    return botocore.session.Session().get_component("data_loader")


@dataclass(frozen=True)
class Backend:
    name: str
    region: str
    endpoint_url: str | None = None
    instance: str | None = None  # the local emulator process this state belongs to

    @cached_property
    def calls(self) -> CallLog:
        """Every AWS call made through this backend, in order (what a notebook shows)."""
        return CallLog()

    @cached_property
    def session(self) -> boto3.Session:
        credentials = LOCAL_CREDENTIALS if self.name == LOCAL else {}
        core = botocore.session.Session()
        core.register_component("data_loader", _data_loader())
        session = boto3.Session(botocore_session=core, region_name=self.region, **credentials)
        # boto3 adds its data folder to the loader of each session it makes: once will do.
        paths, boto3_data = _data_loader().search_paths, os.path.join(boto3.__path__[0], "data")
        while paths.count(boto3_data) > 1:
            paths.remove(boto3_data)
        self.calls.attach(session)
        return session

    @cached_property
    def _clients(self) -> dict[str, Any]:
        return {}

    def client(self, service: str):
        """This backend's one client for ``service``: making a client takes longer than most
        calls it makes, and a notebook calls each service many times."""
        if service not in self._clients:
            self._clients[service] = self.session.client(service, endpoint_url=self.endpoint_url)
        return self._clients[service]

    @cached_property
    def http(self) -> requests.Session:
        """For plain HTTPS (OpenID discovery, JWKS), recorded with the API calls."""
        session = requests.Session()
        session.hooks["response"].append(self.calls.hook("https"))
        return session

    def server_hops(self, runtime_session_id: str) -> list[dict] | None:
        """What the service did inside a runtime session's consent flow, where it says so.

        The local backend keeps a trace of its hops (runtime → agent, the token vault, the
        code exchange, the hosted UI); AWS shows none of them to a caller: None.
        """
        if self.name != LOCAL:
            return None
        try:
            answer = requests.get(
                self.endpoint_url + TRACE_PATH, params={"session": runtime_session_id}, timeout=10
            )
            answer.raise_for_status()
            return answer.json()["hops"]
        except (requests.RequestException, ValueError, KeyError) as error:
            raise WorkshopError(f"The local backend's trace did not answer: {error}") from error

    @property
    def forgets_on_restart(self) -> bool:
        """Does everything made here vanish when the backend process stops?

        The local backend keeps its resources in memory; AWS keeps them (and bills them).
        """
        return self.name == LOCAL

    @property
    def bundles_dependencies(self) -> bool:
        """Must a code deployment carry its dependencies (aarch64 wheels) in the zip?

        AWS runs the zip on its own Python for Linux arm64; the local runtime runs it with
        the workshop's interpreter, which has every dependency already.
        """
        return self.name == AWS

    @property
    def longest_poll(self) -> float:
        """The longest pause between two checks of a deployment's status, in seconds.

        AWS takes a minute or more to deploy, so every few seconds is plenty; the local
        backend takes a fraction of a second, and a long pause would be most of the wait.
        """
        return 5.0 if self.name == AWS else 0.1

    def environ(self) -> dict[str, str]:
        """Environment for a process (an SDK, the agent) that should use this backend."""
        env = {"AWS_REGION": self.region, "AWS_DEFAULT_REGION": self.region}
        if self.name == LOCAL:
            env |= {
                "AWS_ENDPOINT_URL": self.endpoint_url,
                "AWS_ACCESS_KEY_ID": LOCAL_CREDENTIALS["aws_access_key_id"],
                "AWS_SECRET_ACCESS_KEY": LOCAL_CREDENTIALS["aws_secret_access_key"],
            }
        return env

    @cached_property
    def caller(self) -> dict[str, str]:
        """Who the credentials belong to (STS GetCallerIdentity, the same on both backends)."""
        with explain("Asking STS who you are"):
            return self.client("sts").get_caller_identity()

    @property
    def account(self) -> str:
        return self.caller["Account"]

    def describe(self) -> dict[str, str]:
        """What a learner should know about where the workshop runs."""
        return {
            "Backend": self.name,
            "Region": self.region,
            "Endpoint": self.endpoint_url or f"AWS ({self.region})",
            "Account": self.account,
            "Caller": self.caller["Arn"],
            "Model": "Amazon Bedrock"
            if self.name == AWS
            else "a scripted stand-in for Bedrock: NOT a language model",
        }


def connect(name: str = LOCAL, region: str | None = "us-east-1") -> Backend:
    """The backend a notebook's BACKEND/REGION parameters ask for, ready for boto3."""
    name = (name or LOCAL).strip().lower()
    if name == LOCAL:
        url = local_emulator_url()
        return Backend(LOCAL, region or "us-east-1", url, health(url))
    if name == AWS:
        session = boto3.Session(region_name=region or None)
        if not session.region_name:
            raise WorkshopError(
                "No AWS region: set REGION in the parameters cell, or AWS_REGION / "
                "AWS_DEFAULT_REGION, or a region in your AWS profile."
            )
        if session.get_credentials() is None:
            raise WorkshopError(
                "No AWS credentials found. Configure a profile (aws configure, or "
                "aws sso login) and set AWS_PROFILE, or export AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY, then restart the kernel."
            )
        return Backend(AWS, session.region_name)
    raise WorkshopError(f"BACKEND must be 'local' or 'aws', not {name!r}.")


def _health_info(url: str) -> dict | None:
    try:
        answer = requests.get(url + HEALTH_PATH, timeout=2)
        info = answer.json() if answer.ok else {}
    except (requests.RequestException, ValueError):
        return None
    return info if info.get("service") == SERVICE_NAME else None


def health(url: str) -> str | None:
    """The emulator's instance id if ``url`` is a live local backend, else None."""
    info = _health_info(url)
    return info["instance"] if info else None


def local_emulator_url() -> str:
    """The running local backend: the one we were given, the one we started, or a new one."""
    if given := settings.emulator_url():
        if health(given) is None:
            raise WorkshopError(
                f"The local backend at {given} ({settings.EMULATOR_URL}) does not answer. "
                "Restart `make lab` (or unset the variable to let the notebook start one)."
            )
        return given
    recorded = _recorded_emulator()
    if recorded and health(recorded["url"]) is not None:
        return recorded["url"]
    process, url = start_emulator(emulator_log())
    private_file(emulator_record(), json.dumps({"url": url, "pid": process.pid}))
    return url


def free_port() -> int:
    """A loopback port nobody listens on now (for a server started next)."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def _recorded_emulator() -> dict | None:
    """The background backend a notebook started (its URL and pid), if the record is sound.

    A record cut short (a crash, a full disk) names no backend: a new one is started over it.
    """
    try:
        recorded = json.loads(emulator_record().read_text())
        return recorded if isinstance(recorded["url"], str) and int(recorded["pid"]) else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def start_emulator(
    log_path: Path, timeout: float = 60, tied: bool = False, port: int = 0, preload: bool = True
) -> tuple[subprocess.Popen, str]:
    """Start ``python -m emulator serve`` in its own session; return it and its URL.

    Its own session, so a Ctrl-C meant for a notebook's kernel does not stop it; with
    ``preload``, the workshop's first deploy does not wait for the agents' imports (seconds
    of CPU that a backend which deploys nothing need not spend); ``tied`` makes it stop
    when this process is gone, however that happens. Its log is private: it names the
    workshop's users and resources.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k != settings.BEDROCK_API_KEY}
    flags = (["--parent", str(os.getpid())] if tied else []) + (["--preload"] if preload else [])
    with open(os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as log:
        os.chmod(log_path, 0o600)  # an existing log keeps its mode when reopened
        process = subprocess.Popen(
            [sys.executable, "-m", "emulator", "serve", "--port", str(port), *flags],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )

    def ready_url() -> str | None:
        for line in log_path.read_text().splitlines():
            if line.startswith("READY "):
                return line.split()[1]
        if process.poll() is not None:
            raise WorkshopError(
                f"The local backend did not start (exit {process.returncode}):\n"
                + log_path.read_text()[-2000:]
            )
        return None

    # It starts in about half a second: its log is read every 50 ms, as backing off would
    # add most of that again.
    url = wait_until(ready_url, "the local backend to start", timeout, 0.05, max_interval=0.05)
    return process, url


@contextmanager
def running_emulator(log_path: Path, port: int = 0, preload: bool = True) -> Iterator[str]:
    """A local backend for the duration of a block (the runner, `make lab`, tests)."""
    process, url = start_emulator(log_path, tied=True, port=port, preload=preload)
    try:
        yield url
    finally:
        stop_process(process, timeout=10)


def stop_process(process: subprocess.Popen, timeout: float) -> None:
    """SIGTERM, so that ``process`` shuts down as it should; SIGKILL if that takes longer
    than ``timeout`` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def api_calls(url: str | None) -> int | None:
    """How many AWS API calls the local backend at ``url`` has served (None: not local)."""
    try:
        return requests.get(url + STATS_PATH, timeout=5).json()["total"] if url else None
    except (requests.RequestException, ValueError, KeyError):
        return None


def stop_started_emulator() -> bool:
    """Stop the local backend a notebook started in the background, if any is running."""
    recorded = _recorded_emulator()
    emulator_record().unlink(missing_ok=True)
    if recorded is None:
        return False
    live = _health_info(recorded["url"])
    if live is None or live["pid"] != recorded["pid"]:
        return False
    os.kill(recorded["pid"], signal.SIGTERM)
    return True


if __name__ == "__main__":
    if sys.argv[1:] != ["stop"]:
        sys.exit("usage: python -m helpers.backend stop")
    print("Stopped the local backend." if stop_started_emulator() else "No local backend to stop.")
