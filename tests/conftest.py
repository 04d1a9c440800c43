"""Fixtures only: one local backend for the whole session, started as a real process."""

import gc
import os
import signal
import uuid
from dataclasses import dataclass, replace
from pathlib import Path

import boto3
import pytest
from playwright.sync_api import sync_playwright

from helpers import credential_provider, workshop
from helpers.backend import LOCAL_CREDENTIALS, running_emulator
from helpers.cognito import ensure_pools, ensure_user
from helpers.settings import EMULATOR_URL, WORKSHOP_DIR
from tests.support import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_FLAGS,
    LIBFAKETIME,
    REGION,
    launched,
    pool_with_user,
    require_debian_package,
    start_emulator_process,
    upload_agent,
)


@pytest.fixture(scope="session")
def emulator_url(tmp_path_factory) -> str:
    """One local backend per test process (each pytest-xdist worker has its own).

    Tests' backends import what agents need at their first deploy, not at start: many
    never deploy."""
    with running_emulator(
        tmp_path_factory.mktemp("emulator") / "emulator.log", preload=False
    ) as url:
        yield url


@dataclass(frozen=True)
class Emulator:
    url: str
    log: Path


@pytest.fixture(scope="module")
def separate_emulator(tmp_path_factory) -> Emulator:
    """A local backend of the module's own, for tests that check it ends up empty."""
    log = tmp_path_factory.mktemp("separate-emulator") / "emulator.log"
    with running_emulator(log, preload=False) as url:
        yield Emulator(url, log)


@pytest.fixture(scope="session")
def clocked_emulator(tmp_path_factory):
    """An emulator whose clock reads the offset in a file (libfaketime), one per test
    process: its URL, and a way to move its clock on (by 301 seconds: five minutes and a
    second later). Its clock never goes back, so a test times what it makes itself."""
    require_debian_package(bool(LIBFAKETIME), "faketime")
    offset = tmp_path_factory.mktemp("clock") / "clock-offset"
    offset.write_text("+0\n")
    moved = 0

    def move_on(seconds: int) -> None:
        nonlocal moved
        moved += seconds
        offset.write_text(f"+{moved}\n")

    env = {
        **os.environ,
        "LD_PRELOAD": LIBFAKETIME[0],
        "FAKETIME_TIMESTAMP_FILE": str(offset),
        "FAKETIME_NO_CACHE": "1",
    }
    process, url = start_emulator_process(env)
    yield url, move_on
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=10)


@pytest.fixture
def time_machine(clocked_emulator):
    """The clocked emulator as boto3 clients see it, and the way to move its clock."""
    url, move = clocked_emulator

    def client(service: str):
        return boto3.client(service, endpoint_url=url, region_name=REGION, **LOCAL_CREDENTIALS)

    return client, move


@pytest.fixture(scope="module")
def pool(emulator_url):
    """A user pool with an app client and a signed-in user (modules may have their own)."""
    return pool_with_user(emulator_url)


@pytest.fixture(scope="module")
def context_code(emulator_url):
    """The context agent (it reports what it sees) uploaded as a deployment zip."""
    return upload_agent(emulator_url, "context_agent")


@pytest.fixture(scope="session")
def idp(emulator_url):
    return boto3.client(
        "cognito-idp", endpoint_url=emulator_url, region_name=REGION, **LOCAL_CREDENTIALS
    )


@pytest.fixture
def sdk_environment(emulator_url, monkeypatch):
    """What a learner's agent process has: endpoints, dummy credentials and a region."""
    for service in ("BEDROCK_AGENTCORE", "BEDROCK_AGENTCORE_CONTROL"):
        monkeypatch.setenv(f"AWS_ENDPOINT_URL_{service}", emulator_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", LOCAL_CREDENTIALS["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", LOCAL_CREDENTIALS["aws_secret_access_key"])
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.delenv("DOCKER_CONTAINER", raising=False)


@pytest.fixture
def workshop_dir(emulator_url, tmp_path, monkeypatch):
    """A learner's setting: notebooks pointed at the session's backend, state in tmp_path."""
    monkeypatch.setenv(EMULATOR_URL, emulator_url)
    monkeypatch.setenv(WORKSHOP_DIR, str(tmp_path))
    return tmp_path


@pytest.fixture
def backend_and_state(workshop_dir):
    """What a notebook's first cell gives it: the local backend and a fresh workshop state."""
    return workshop.resume("local", REGION)


@pytest.fixture
def pools(backend_and_state):
    """Notebook 01: both Cognito pools, their clients and users."""
    return ensure_pools(*backend_and_state)


def _deployed(be, ws, pools):
    """Notebooks 04 to 06 in a few lines: provider, the agent on the local runtime."""
    provider = credential_provider.ensure_credential_provider(be, ws, pools)
    return be, ws, pools, *launched(be, ws, pools, provider)


@pytest.fixture
def own_deployment(backend_and_state, pools):
    """Notebooks 01 to 06: a deployed agent of the test's own (for a test that deletes it)."""
    return _deployed(*backend_and_state, pools)


@pytest.fixture(scope="session")
def shared_deployment(emulator_url, tmp_path_factory):
    """Notebooks 01 to 06 once per test process, for tests that use the agent in turn, as
    a learner's later notebooks do (each test leaves it as it found it)."""
    folder = tmp_path_factory.mktemp("workshop")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(EMULATOR_URL, emulator_url)
        patch.setenv(WORKSHOP_DIR, str(folder))
        be, ws = workshop.resume("local", REGION)
        yield _deployed(be, ws, ensure_pools(be, ws))


@pytest.fixture
def deployment(shared_deployment, emulator_url, monkeypatch):
    """The shared agent, called by a learner of the test's own: a new user of the runtime
    pool, so the token vault holds nothing for them yet and consent starts afresh."""
    be, ws, pools, agent, binding_url = shared_deployment
    monkeypatch.setenv(EMULATOR_URL, emulator_url)
    monkeypatch.setenv(WORKSHOP_DIR, str(ws.path.parent.parent))
    name = f"learner{uuid.uuid4().hex[:8]}"
    learner = ensure_user(be, ws, name, pools.runtime, name)
    return be, ws, replace(pools, runtime=learner), agent, binding_url


@pytest.fixture(scope="module")
def chromium():
    """Headless Chromium (Debian's), for the pages a learner's browser opens."""
    require_debian_package(CHROMIUM.exists(), "chromium-headless-shell")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


# The modules that run whole notebooks take up to a minute each, and a few others wait for
# agents to start; pytest-xdist hands modules to its workers in collection order, so these
# go first, longest first, and the short ones fill the gaps.
LONGEST_FIRST = (
    "test_lab.py",
    "test_notebooks.py",
    "test_runner.py",
    "test_damaged_state.py",
    "test_cold_start.py",
    "test_emulator_runtime.py",
    "test_helpers_runtime.py",
    "test_helpers_cleanup.py",
)


@pytest.hookimpl(optionalhook=True)  # pytest-xdist's hook: unknown when it is not loaded
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """One worker more than cores (`-n auto`): a worker often waits for the processes its
    tests start (kernels, agents, a browser), and another one's tests use the core."""
    return (os.cpu_count() or 1) + 1


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        name = item.path.name
        return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: each module keeps its own order


def pytest_collection_finish(session: pytest.Session) -> None:
    """What collection imported (the SDKs, botocore's models, moto, every test module) lives
    as long as the tests: frozen, the garbage collector no longer scans it at each full
    collection, which took seconds of every worker's time."""
    gc.freeze()
