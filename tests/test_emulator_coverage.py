"""No 501 where the SDK can reach: every AgentCore operation the bedrock-agentcore SDK's
identity and runtime code calls is one the local backend serves.

The emulator serves an operation of the AgentCore APIs when its response class has the
operation's method (``ModelResponse`` answers 501 otherwise), or, for InvokeAgentRuntime,
on the invocation path of its own. The SDK's calls are read from its installed source, so
an SDK upgrade that calls something new fails here, not in a learner's notebook.
"""

import inspect
import re
from pathlib import Path

import bedrock_agentcore
import botocore.session
from botocore import xform_name
from moto.core.utils import camelcase_to_underscores

from emulator.identity import responses as identity_responses
from emulator.runtime import responses as runtime_responses

SERVICES = ("bedrock-agentcore-control", "bedrock-agentcore")
SDK_PACKAGES = ("identity", "runtime", "services")  # decorators, runtime app and clients
SERVED_ELSEWHERE = {"invoke_agent_runtime"}  # emulator/runtime/invocations.py
# What that code also calls for AgentCore features this workshop is not about, where the
# local backend answers 501 (listed in emulator/README.md): payments, resource policies,
# and configuration bundles (the runtime app fetches one only when a request names one).
OTHER_FEATURES = re.compile(r"payment|resource_policy|configuration_bundle")


def _served() -> set[str]:
    methods = set(SERVED_ELSEWHERE)
    for module in (identity_responses, runtime_responses):
        for cls in vars(module).values():
            if inspect.isclass(cls) and cls.__module__ == module.__name__:
                methods |= set(dir(cls))
    return methods


def _operations() -> dict[str, str]:
    """boto3's method name of each operation → the method the emulator dispatches it to."""
    session = botocore.session.get_session()
    return {
        xform_name(operation): camelcase_to_underscores(operation)
        for service in SERVICES
        for operation in session.get_service_model(service).operation_names
    }


def _called_by_the_sdk(operations: dict[str, str]) -> set[str]:
    root = Path(bedrock_agentcore.__file__).parent
    called = set()
    for package in SDK_PACKAGES:
        for source in (root / package).rglob("*.py"):
            called |= set(re.findall(r"\.(\w+)\(", source.read_text()))
    return {name for name in called if name in operations and not OTHER_FEATURES.search(name)}


def test_every_agentcore_call_of_the_sdks_identity_and_runtime_code_is_served():
    operations = _operations()
    called = _called_by_the_sdk(operations)
    assert {"get_resource_oauth2_token", "create_workload_identity"} <= called  # found at all
    missing = sorted(name for name in called if operations[name] not in _served())
    assert not missing, f"the SDK calls these and the local backend answers 501: {missing}"
