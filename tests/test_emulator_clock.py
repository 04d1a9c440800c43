"""What happens as time passes, on a local backend whose clock the test moves (libfaketime)."""

import uuid

import pytest
from botocore.exceptions import ClientError

from tests.support import (
    create_runtime,
    error_of,
    invoke_with_bearer,
    pool_with_user,
    quickstart_authorizer,
    upload_agent,
)

HOUR = 3600


def test_an_expired_user_token_gets_no_workload_access_token(time_machine):
    client, move_clock = time_machine
    workload = f"clock-workload-{uuid.uuid4().hex[:8]}"
    user_token = pool_with_user(client("sts").meta.endpoint_url)["access_token"]
    client("bedrock-agentcore-control").create_workload_identity(name=workload)
    data = client("bedrock-agentcore")
    assert data.get_workload_access_token_for_jwt(workloadName=workload, userToken=user_token)
    move_clock(2 * HOUR)
    with pytest.raises(ClientError) as error:
        data.get_workload_access_token_for_jwt(workloadName=workload, userToken=user_token)
    assert error_of(error) == ("UnauthorizedException", 401)
    assert "expired" in error.value.response["Error"]["Message"]


def test_an_expired_workload_access_token_gets_no_api_key(time_machine):
    client, move_clock = time_machine
    control = client("bedrock-agentcore-control")
    workload, key = (f"clock-{kind}-{uuid.uuid4().hex[:8]}" for kind in ("workload", "key"))
    control.create_workload_identity(name=workload)
    control.create_api_key_credential_provider(name=key, apiKey="the-key")
    data = client("bedrock-agentcore")
    token = data.get_workload_access_token(workloadName=workload)["workloadAccessToken"]
    key_of = {"workloadIdentityToken": token, "resourceCredentialProviderName": key}
    assert data.get_resource_api_key(**key_of)
    move_clock(2 * HOUR)
    with pytest.raises(ClientError) as error:
        data.get_resource_api_key(**key_of)
    assert error_of(error) == ("AccessDeniedException", 403)


def test_an_expired_bearer_token_is_refused_by_the_runtime(time_machine, tmp_path):
    client, move_clock = time_machine
    url = client("sts").meta.endpoint_url
    pool = pool_with_user(url)
    runtime = create_runtime(
        url, upload_agent(url, "context_agent"), authorizerConfiguration=quickstart_authorizer(pool)
    )
    assert invoke_with_bearer(url, runtime, {}, token=pool["access_token"]).status_code == 200
    move_clock(2 * HOUR)
    answer = invoke_with_bearer(url, runtime, {}, token=pool["access_token"])
    assert answer.status_code == 401
    assert "expired" in answer.json()["message"]
