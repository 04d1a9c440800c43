"""One local backend for the whole session, started as a real process, as learners get it."""

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
