"""The call recorder: every boto3 call and bearer-token invocation, secrets masked."""

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

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
            "code": "authorization-code",
        }
    )
    for secret in ("pw-1234567", "h4sh", "eyJhbGciOi", "s3cr3t-value", "authorization-code"):
        assert secret not in shown
    assert "GenerateSecret=True" in shown
