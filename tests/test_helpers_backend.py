"""Choosing the backend: the local emulator found or started, AWS settings explained."""

import json
import subprocess
import sys
import time

import pytest

from helpers import backend
from helpers.errors import WorkshopError
from helpers.settings import EMULATOR_URL


@pytest.fixture
def no_aws_configuration(monkeypatch, tmp_path):
    """A machine with no AWS profile, keys, region or instance metadata to fall back on."""
    for name in (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def test_unknown_backend_is_explained():
    with pytest.raises(WorkshopError, match="BACKEND must be 'local' or 'aws'"):
        backend.connect("azure")


def test_aws_without_region_is_explained(no_aws_configuration):
    with pytest.raises(WorkshopError, match="No AWS region"):
        backend.connect("aws", region=None)


def test_aws_without_credentials_is_explained(no_aws_configuration):
    with pytest.raises(WorkshopError, match="No AWS credentials"):
        backend.connect("aws", region="us-west-2")


def test_aws_uses_the_default_chain_and_no_endpoint(no_aws_configuration, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "example")
    aws = backend.connect("AWS", region="eu-west-1")
    assert (aws.name, aws.region, aws.endpoint_url) == ("aws", "eu-west-1", None)
    assert (
        aws.client("cognito-idp").meta.endpoint_url == "https://cognito-idp.eu-west-1.amazonaws.com"
    )
    assert "AWS_ENDPOINT_URL" not in aws.environ()


def test_local_uses_the_backend_it_was_given(workshop_dir, emulator_url):
    local = backend.connect("local", "us-east-1")
    assert local.endpoint_url == emulator_url
    assert local.instance == backend.health(emulator_url)
    assert local.client("sts").get_caller_identity()["Account"] == "123456789012"
    assert local.environ()["AWS_ENDPOINT_URL"] == emulator_url


def test_local_with_a_dead_backend_is_explained(workshop_dir, monkeypatch):
    monkeypatch.setenv(EMULATOR_URL, "http://127.0.0.1:9")
    with pytest.raises(WorkshopError, match="does not answer"):
        backend.connect("local")


def test_local_starts_a_backend_once_and_reuses_it(workshop_dir, monkeypatch, emulator_url):
    monkeypatch.delenv(EMULATOR_URL)
    first = backend.connect("local")
    try:
        assert first.endpoint_url != emulator_url
        assert backend.connect("local") == first
        assert (workshop_dir / ".workshop" / "emulator.json").stat().st_mode & 0o777 == 0o600
    finally:
        assert backend.stop_started_emulator()
    stopped = lambda: True if backend.health(first.endpoint_url) is None else None  # noqa: E731
    backend.wait_until(stopped, "the started backend to stop", timeout=10)
    assert not backend.stop_started_emulator()


def test_a_damaged_record_of_the_background_backend_is_replaced(workshop_dir, monkeypatch):
    monkeypatch.delenv(EMULATOR_URL)
    record = workshop_dir / ".workshop" / "emulator.json"
    record.parent.mkdir()
    record.write_text('{"url": "http://127.0.0.1:')  # cut short
    assert not backend.stop_started_emulator() and not record.exists()
    record.write_text("[]")
    started = backend.connect("local")
    try:
        assert backend.health(started.endpoint_url)
        assert json.loads(record.read_text())["url"] == started.endpoint_url
    finally:
        assert backend.stop_started_emulator()


def test_the_notebook_side_never_loads_the_backends_server_code():
    """`helpers.backend` knows the emulator's paths, not its server (moto, flask, werkzeug)."""
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, helpers.backend\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'moto', 'flask', 'werkzeug'}))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert loaded.stdout.strip() == "[]"


def test_a_backend_for_a_block_stops_when_its_owner_is_killed(tmp_path):
    """`make run` and `make lab` hold their backend in a block; SIGKILL skips the block's
    end, so the backend watches its parent and leaves on its own."""
    log = tmp_path / "emulator.log"
    owner = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from helpers.backend import "
            "running_emulator\nwith running_emulator(Path(sys.argv[1])) as url:\n"
            "    print(url, flush=True); time.sleep(600)",
            str(log),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    url = owner.stdout.readline().strip()
    assert backend.health(url)
    assert log.stat().st_mode & 0o777 == 0o600  # it names users and resources
    owner.kill()
    owner.wait()
    deadline = time.monotonic() + 10
    while backend.health(url) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert backend.health(url) is None, "the backend outlived its owner"
