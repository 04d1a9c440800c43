"""One local backend for the whole session, started as a real process, as learners get it."""

import os
import subprocess
import sys

import boto3
import pytest

from helpers.backend import LOCAL_CREDENTIALS, running_emulator

REGION = "us-east-1"


@pytest.fixture(scope="session")
def emulator_url(tmp_path_factory) -> str:
    with running_emulator(tmp_path_factory.mktemp("emulator") / "emulator.log") as url:
        yield url


@pytest.fixture(scope="session")
def cognito(emulator_url):
    return boto3.client(
        "cognito-idp", endpoint_url=emulator_url, region_name=REGION, **LOCAL_CREDENTIALS
    )


@pytest.fixture
def workshop(emulator_url, tmp_path, monkeypatch):
    """A learner's setting: notebooks pointed at the session's backend, state in tmp_path."""
    monkeypatch.setenv("WORKSHOP_EMULATOR_URL", emulator_url)
    monkeypatch.setenv("WORKSHOP_DIR", str(tmp_path))
    return tmp_path


def start_emulator_process(env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    """``python -m emulator serve --port 0``, waited for until it prints its READY line."""
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    line = process.stdout.readline()
    assert line.startswith("READY http://127.0.0.1:"), line
    return process, line.split()[1]


def require_debian_package(found: bool, package: str) -> None:
    """Skip where a Debian package is missing, except in CI, whose .ci/run installs it."""
    if found:
        return
    if os.environ.get("CI"):
        pytest.fail(f"The Debian package {package} is missing: .ci/run must install it.")
    pytest.skip(f"needs the Debian package {package} (apt-get install {package})")
