"""One error path: every error of the local backend has AWS's shape, and bugs are logged."""

import inspect
import pkgutil
import subprocess
import sys
from importlib import import_module
from pathlib import Path

import pytest
import requests
from bedrock_agentcore.runtime.models import SESSION_HEADER
from botocore.config import Config
from botocore.exceptions import ClientError

import emulator
from emulator.exceptions import AwsError
from tests.support import client, error_of

ONCE = Config(retries={"total_max_attempts": 1})  # botocore retries a 500: count each call once
UNVALIDATED = Config(parameter_validation=False, retries={"max_attempts": 1})
# Raised inside the backend and never answered to a client.
INTERNAL = {"IncompatibleMoto", "LaunchFailed"}


def _emulator_modules():
    for info in pkgutil.walk_packages(emulator.__path__, "emulator."):
        if not info.name.endswith("__main__"):
            yield import_module(info.name)


def test_every_error_the_backend_answers_with_is_an_aws_error():
    for module in _emulator_modules():
        for name, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, BaseException) and value.__module__ == module.__name__:
                assert issubclass(value, AwsError) or name in INTERNAL, f"{module.__name__}.{name}"


def test_one_serializer_writes_the_error_type_header():
    writers = [
        path.relative_to(Path(emulator.__file__).parent).as_posix()
        for path in Path(emulator.__file__).parent.rglob("*.py")
        if "x-amzn-ErrorType" in path.read_text()
    ]
    assert writers == ["exceptions.py"]


def _answered_as_aws(error: ClientError, code: str, status: int) -> None:
    assert error_of(error) == (code, status)
    assert error.response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"] == code
    assert error.response["ResponseMetadata"]["RequestId"]
    assert error.response["Error"]["Message"]


@pytest.mark.parametrize(
    ("service", "operation", "params", "code", "status"),
    [
        (
            "bedrock-runtime",
            "converse",
            {"modelId": "m", "messages": []},
            "ValidationException",
            400,
        ),
        (
            "bedrock-agentcore-control",
            "get_workload_identity",
            {"name": "no-such-workload"},
            "ResourceNotFoundException",
            404,
        ),
        (
            "bedrock-agentcore-control",
            "get_agent_runtime",
            {"agentRuntimeId": "nothing_here-0123456789"},
            "ResourceNotFoundException",
            404,
        ),
        (
            "bedrock-agentcore-control",
            "create_agent_runtime",
            {"agentRuntimeName": "x" * 49},
            "ValidationException",
            400,
        ),
        (
            "bedrock-agentcore",
            "get_workload_access_token",
            {"workloadName": "no-such-workload"},
            "ResourceNotFoundException",
            404,
        ),
    ],
)
def test_each_service_answers_errors_in_awss_shape(
    emulator_url, service, operation, params, code, status
):
    with pytest.raises(ClientError) as error:
        getattr(client(emulator_url, service, config=UNVALIDATED), operation)(**params)
    _answered_as_aws(error.value, code, status)


def test_an_invocation_is_refused_in_awss_shape_over_plain_http(emulator_url):
    arn = "arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/nothing_here-0123456789"
    answer = requests.post(
        f"{emulator_url}/runtimes/{requests.utils.quote(arn, safe='')}/invocations",
        headers={SESSION_HEADER: "s" * 40, "Authorization": "Bearer x"},
        json={},
        timeout=10,
    )
    assert answer.status_code == 404
    assert answer.headers["x-amzn-ErrorType"] == "ResourceNotFoundException"
    assert answer.json()["__type"] == "ResourceNotFoundException"


def test_an_operation_it_does_not_serve_is_501_not_a_crash(emulator_url):
    with pytest.raises(ClientError) as error:
        client(emulator_url, "bedrock-agentcore-control").list_payment_credential_providers()
    _answered_as_aws(error.value, "NotImplementedException", 501)


BROKEN_BACKEND = """
import sys
from emulator import bedrock
from emulator.identity.models import IdentityBackend

def boom(*args, **kwargs):
    raise RuntimeError("boom")

bedrock.reply = boom
IdentityBackend.get_token_vault = boom
from emulator.server import serve
serve(0)
"""


def test_a_handler_bug_is_logged_with_its_traceback_and_answered_as_500():
    process = subprocess.Popen(
        [sys.executable, "-c", BROKEN_BACKEND],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = process.stdout.readline().split()[1]
        calls = [
            lambda: client(url, "bedrock-runtime", config=ONCE).converse(
                modelId="m", messages=[{"role": "user", "content": [{"text": "hi"}]}]
            ),
            lambda: client(url, "bedrock-agentcore-control", config=ONCE).get_token_vault(),
        ]
        for call in calls:
            with pytest.raises(ClientError) as error:
                call()
            _answered_as_aws(error.value, "InternalServerException", 500)
    finally:
        process.terminate()
        _, log = process.communicate(timeout=20)
    assert log.count("Traceback (most recent call last)") == 2, log
    assert log.count("RuntimeError: boom") == 2
    assert "A handler of the local backend failed" in log
