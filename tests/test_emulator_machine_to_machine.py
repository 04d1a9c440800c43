"""Machine to machine on the local backend: a Cognito resource server with custom scopes, a
client-credentials client allowed some of them, and M2M tokens through AgentCore Identity."""

import uuid

import jwt
import pytest
import requests
from botocore.exceptions import ClientError

from emulator.identity.federation import CLIENT_CREDENTIALS_REFUSED
from tests.support import client, custom_provider, error_of, machine_client

SCOPES = [
    {"ScopeName": "read", "ScopeDescription": "Read"},
    {"ScopeName": "write", "ScopeDescription": "Write"},
]


@pytest.fixture(scope="module")
def machine(emulator_url) -> dict:
    """A pool with a domain, a resource server, a machine client allowed only its read scope,
    and a CustomOauth2 provider for that client."""
    cognito = client(emulator_url, "cognito-idp")
    pool = cognito.create_user_pool(PoolName="machines")["UserPool"]["Id"]
    cognito.create_user_pool_domain(Domain=f"m2m-{uuid.uuid4().hex[:8]}", UserPoolId=pool)
    cognito.create_resource_server(
        UserPoolId=pool, Identifier="external-service", Name="External service", Scopes=SCOPES
    )
    app = machine_client(cognito, pool, ["external-service/read"])
    discovery = f"{emulator_url}/{pool}/.well-known/openid-configuration"
    name = custom_provider(emulator_url, discovery, app, "m2m")["name"]
    control = client(emulator_url, "bedrock-agentcore-control")
    workload = control.create_workload_identity(name=f"wl-{uuid.uuid4().hex[:8]}")["name"]
    data = client(emulator_url, "bedrock-agentcore")
    wat = data.get_workload_access_token_for_user_id(workloadName=workload, userId="nightly-job")
    return {
        "pool": pool,
        "client": app,
        "provider": name,
        "discovery": requests.get(discovery, timeout=10).json(),
        "wat": wat["workloadAccessToken"],
    }


def _m2m(emulator_url: str, machine: dict, scope: str) -> str:
    return client(emulator_url, "bedrock-agentcore").get_resource_oauth2_token(
        workloadIdentityToken=machine["wat"],
        resourceCredentialProviderName=machine["provider"],
        scopes=[scope],
        oauth2Flow="M2M",
    )["accessToken"]


def test_an_allowed_custom_scope_is_in_the_m2m_token(emulator_url, machine):
    claims = jwt.decode(
        _m2m(emulator_url, machine, "external-service/read"), options={"verify_signature": False}
    )
    assert claims["scope"] == "external-service/read"
    assert claims["client_id"] == machine["client"]["ClientId"]
    assert claims["token_use"] == "access"


def test_a_scope_the_client_is_not_allowed_is_refused_as_aws_refuses_it(emulator_url, machine):
    with pytest.raises(ClientError) as error:
        _m2m(emulator_url, machine, "external-service/write")
    assert error_of(error) == ("ValidationException", 400)
    assert error.value.response["Error"]["Message"] == CLIENT_CREDENTIALS_REFUSED


def test_cognito_itself_answers_invalid_scope(machine):
    answer = requests.post(
        machine["discovery"]["token_endpoint"],
        data={"grant_type": "client_credentials", "scope": "external-service/write"},
        auth=(machine["client"]["ClientId"], machine["client"]["ClientSecret"]),
        timeout=10,
    )
    assert (answer.status_code, answer.json()["error"]) == (400, "invalid_scope")


def test_a_resource_server_can_be_deleted_once(emulator_url):
    cognito = client(emulator_url, "cognito-idp")
    pool = cognito.create_user_pool(PoolName="short-lived")["UserPool"]["Id"]
    cognito.create_resource_server(UserPoolId=pool, Identifier="api", Name="API", Scopes=SCOPES)
    cognito.delete_resource_server(UserPoolId=pool, Identifier="api")
    assert cognito.list_resource_servers(UserPoolId=pool, MaxResults=10)["ResourceServers"] == []
    with pytest.raises(ClientError) as error:
        cognito.delete_resource_server(UserPoolId=pool, Identifier="api")
    assert error_of(error)[0] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as error:
        cognito.describe_resource_server(UserPoolId=pool, Identifier="api")
    assert error_of(error)[0] == "ResourceNotFoundException"
