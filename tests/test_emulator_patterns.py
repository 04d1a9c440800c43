"""Answers shaped as AWS's: every member the model requires is there (list items too), and
every string matches the pattern botocore's model gives its member (the `acps`
credential-provider ARNs, the workload-identity ARNs, the Secrets Manager ARNs, the
runtime's ARN and id, …)."""

import re
from typing import Any

import botocore.session
import pytest

from tests.support import client

CONTROL = botocore.session.get_session().get_service_model("bedrock-agentcore-control")


def violations(shape, value: Any, path: str = "") -> list[str]:
    """Where ``value`` breaks ``shape``: a required member missing, a pattern not matched."""
    if shape.type_name == "string" and (pattern := shape.metadata.get("pattern")):
        return [] if re.fullmatch(pattern, value) else [f"{path}={value!r} !~ {pattern}"]
    if shape.type_name == "structure" and isinstance(value, dict):
        missing = [f"{path}.{name} missing" for name in shape.required_members if name not in value]
        return missing + [
            problem
            for name, member in shape.members.items()
            if name in value
            for problem in violations(member, value[name], f"{path}.{name}")
        ]
    if shape.type_name == "list" and isinstance(value, list):
        return [p for i, item in enumerate(value) for p in violations(shape.member, item, path)]
    return []


def answer(control, operation: str, **parameters) -> list[str]:
    result = control._make_api_call(operation, parameters)
    return violations(CONTROL.operation_model(operation).output_shape, result)


@pytest.fixture
def control(emulator_url):
    return client(emulator_url, "bedrock-agentcore-control")


def test_identity_answers_have_the_models_members_and_patterns(control, idp):
    pool = idp.create_user_pool(PoolName="patterns")["UserPool"]["Id"]
    discovery = f"{idp.meta.endpoint_url}/{pool}/.well-known/openid-configuration"
    custom = {"oauthDiscovery": {"discoveryUrl": discovery}, "clientId": "c", "clientSecret": "s"}
    google = {"clientId": "g", "clientSecret": "s"}
    created = {
        "CreateWorkloadIdentity": {"name": "patterns-workload"},
        "CreateApiKeyCredentialProvider": {"name": "patterns-key", "apiKey": "k" * 16},
        "CreateOauth2CredentialProvider": {
            "name": "patterns-custom",
            "credentialProviderVendor": "CustomOauth2",
            "oauth2ProviderConfigInput": {"customOauth2ProviderConfig": custom},
        },
    }
    problems = [p for op, parameters in created.items() for p in answer(control, op, **parameters)]
    problems += answer(
        control,
        "CreateOauth2CredentialProvider",
        name="patterns-google",
        credentialProviderVendor="GoogleOauth2",
        oauth2ProviderConfigInput={"googleOauth2ProviderConfig": google},
    )
    problems += answer(control, "GetWorkloadIdentity", name="patterns-workload")
    problems += answer(control, "GetApiKeyCredentialProvider", name="patterns-key")
    for name in ("patterns-custom", "patterns-google"):
        problems += answer(control, "GetOauth2CredentialProvider", name=name)
    for operation in (
        "ListWorkloadIdentities",
        "ListOauth2CredentialProviders",
        "ListApiKeyCredentialProviders",
        "GetTokenVault",
    ):
        problems += answer(control, operation)
    assert not problems


def test_a_runtimes_answers_have_the_models_members_and_patterns(deployment, emulator_url):
    agent = deployment[3]
    control = client(emulator_url, "bedrock-agentcore-control")
    problems = answer(control, "GetAgentRuntime", agentRuntimeId=agent.id)
    problems += answer(control, "ListAgentRuntimes")
    problems += answer(control, "ListAgentRuntimeVersions", agentRuntimeId=agent.id)
    assert not problems
