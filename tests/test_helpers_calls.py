"""The call recorder: every boto3 call and bearer-token invocation, secrets masked."""

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from helpers import authorizer, cognito
from helpers.backend import Backend
from helpers.calls import summary


def test_a_call_is_recorded_with_its_operation_status_and_masked_secrets(backend_and_state, pools):
    be, _ = backend_and_state
    before = len(be.calls.calls)
    be.client("cognito-idp").admin_set_user_password(
        UserPoolId=pools.runtime.pool_id,
        Username=pools.runtime.username,
        Password=pools.runtime.password,
        Permanent=True,
    )
    (call,) = be.calls.calls[before:]
    assert (call.service, call.operation, call.status, call.error) == (
        "cognito-idp",
        "AdminSetUserPassword",
        200,
        None,
    )
    assert f"Username={pools.runtime.username}" in call.parameters
    assert pools.runtime.password not in call.parameters + repr(be.calls)
    assert call.milliseconds > 0


def test_a_refusal_is_recorded_with_its_error_code(backend_and_state):
    be, _ = backend_and_state
    with pytest.raises(ClientError):
        be.client("bedrock-agentcore-control").get_workload_identity(name="no-such-workload")
    assert be.calls.calls[-1].error == "ResourceNotFoundException"
    assert be.calls.calls[-1].status == 404


def test_a_call_that_reached_nobody_is_recorded_too():
    nowhere = Backend("local", "us-east-1", "http://127.0.0.1:9")
    with pytest.raises(EndpointConnectionError):
        nowhere.client("sts").get_caller_identity()
    assert [(c.operation, c.status, c.error) for c in nowhere.calls.calls] == [
        ("GetCallerIdentity", None, "EndpointConnectionError")
    ]


def test_secrets_are_masked_whatever_they_are_called():
    shown = summary(
        {
            "AuthParameters": {"USERNAME": "u", "PASSWORD": "pw-1234567", "SECRET_HASH": "h4sh"},
            "userToken": "eyJhbGciOi.payload.signature",
            "clientSecret": "s3cr3t-value",
            "GenerateSecret": True,
        }
    )
    for secret in ("pw-1234567", "h4sh", "eyJhbGciOi", "s3cr3t-value"):
        assert secret not in shown
    assert "GenerateSecret=True" in shown


def test_a_snippet_is_the_call_as_boto3_code_with_placeholders_for_secrets(
    backend_and_state, pools
):
    be, _ = backend_and_state
    cognito = be.client("cognito-idp")
    cognito.initiate_auth(
        ClientId=pools.runtime.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": pools.runtime.username, "PASSWORD": pools.runtime.password},
    )
    code = be.calls.snippets("InitiateAuth", "DeleteUserPool").data
    assert 'client = boto3.client("cognito-idp")\nclient.initiate_auth(\n' in code
    assert f"ClientId='{pools.runtime.client_id}'" in code
    assert "'PASSWORD': '<PASSWORD>'" in code and pools.runtime.password not in code
    assert "# DeleteUserPool: not called in this run" in code
    compile(code, "snippet", "exec")


def test_botocores_own_idempotency_token_is_not_in_the_snippet(backend_and_state):
    be, _ = backend_and_state
    with pytest.raises(ClientError):  # refused (a container), but botocore added a clientToken
        be.client("bedrock-agentcore-control").create_agent_runtime(
            agentRuntimeName="snippet_agent",
            agentRuntimeArtifact={"containerConfiguration": {"containerUri": "x/y:z"}},
            roleArn="arn:aws:iam::123456789012:role/r",
            networkConfiguration={"networkMode": "PUBLIC"},
        )
    code = be.calls.snippets("CreateAgentRuntime").data
    assert "agentRuntimeName='snippet_agent'" in code and "clientToken" not in code


def test_discovery_and_signing_keys_are_recorded_as_plain_https(backend_and_state, pools):
    be, _ = backend_and_state
    before = len(be.calls.calls)
    authorizer.verify(be, cognito.bearer_token(be, pools.runtime), pools.runtime.discovery_url)
    fetched = [c.operation for c in be.calls.calls[before:] if c.service == "https"]
    pool = pools.runtime.pool_id
    assert fetched == [
        f"GET /{pool}/.well-known/openid-configuration",
        f"GET /{pool}/.well-known/jwks.json",
    ]


def test_aws_shows_no_hops_from_inside_the_service():
    assert Backend("aws", "us-east-1").server_hops("a-runtime-session") is None
