"""API-key credential providers on the local backend: rotating the key with
UpdateApiKeyCredentialProvider, driven by boto3 and the real bedrock-agentcore SDK."""

import uuid

import pytest
from bedrock_agentcore.identity.auth import requires_api_key
from botocore.config import Config
from botocore.exceptions import ClientError

from helpers.workload_identity import write_local_dev_config
from tests.support import client, error_of

UNVALIDATED = Config(parameter_validation=False, retries={"max_attempts": 1})


def _key() -> str:
    return "api-key-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def control(emulator_url):
    return client(emulator_url, "bedrock-agentcore-control")


@pytest.fixture
def provider(control) -> dict:
    """A fresh provider, and the key it was created with."""
    key = _key()
    created = control.create_api_key_credential_provider(
        name=f"key-{uuid.uuid4().hex[:10]}", apiKey=key
    )
    return {**created, "key": key}


@pytest.fixture(scope="module")
def workload_token(emulator_url, control) -> str:
    name = control.create_workload_identity(name=f"wl-{uuid.uuid4().hex[:10]}")["name"]
    data = client(emulator_url, "bedrock-agentcore")
    return data.get_workload_access_token_for_user_id(workloadName=name, userId="job")[
        "workloadAccessToken"
    ]


def _served_key(emulator_url: str, workload_token: str, name: str) -> str:
    return client(emulator_url, "bedrock-agentcore").get_resource_api_key(
        workloadIdentityToken=workload_token, resourceCredentialProviderName=name
    )["apiKey"]


def test_update_rotates_the_key_that_get_resource_api_key_serves(
    emulator_url, control, provider, workload_token
):
    assert _served_key(emulator_url, workload_token, provider["name"]) == provider["key"]
    rotated = _key()
    control.update_api_key_credential_provider(name=provider["name"], apiKey=rotated)
    assert _served_key(emulator_url, workload_token, provider["name"]) == rotated


def test_update_answers_in_aws_shape_and_never_returns_the_key(control, provider):
    answer = control.update_api_key_credential_provider(name=provider["name"], apiKey=_key())
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert answer["name"] == provider["name"]
    assert answer["credentialProviderArn"] == provider["credentialProviderArn"]
    assert answer["apiKeySecretArn"] == provider["apiKeySecretArn"]  # the same secret, rotated
    assert answer["lastUpdatedTime"] >= answer["createdTime"]
    assert "apiKey" not in answer


def test_the_rotated_key_is_a_new_version_of_the_same_secret(emulator_url, control, provider):
    rotated = _key()
    control.update_api_key_credential_provider(name=provider["name"], apiKey=rotated)
    secrets = client(emulator_url, "secretsmanager")
    secret_arn = provider["apiKeySecretArn"]["secretArn"]
    value = secrets.get_secret_value(SecretId=secret_arn)["SecretString"]
    assert rotated in value and provider["key"] not in value
    assert len(secrets.list_secret_version_ids(SecretId=secret_arn)["Versions"]) == 2


def test_update_of_an_unknown_provider_is_not_found(control):
    with pytest.raises(ClientError) as error:
        control.update_api_key_credential_provider(name="no-such-key-provider", apiKey=_key())
    assert error_of(error) == ("ResourceNotFoundException", 404)


def test_update_without_a_key_is_a_validation_error(control, provider):
    with pytest.raises(ClientError) as error:
        control.update_api_key_credential_provider(name=provider["name"])
    assert error_of(error) == ("ValidationException", 400)


def test_update_breaking_the_model_is_a_validation_error(emulator_url, provider):
    unvalidated = client(emulator_url, "bedrock-agentcore-control", config=UNVALIDATED)
    with pytest.raises(ClientError) as error:
        unvalidated.update_api_key_credential_provider(name="not a valid name!", apiKey=_key())
    assert error_of(error) == ("ValidationException", 400)


def test_an_external_secret_is_refused_as_not_implemented_not_as_a_failure(control, provider):
    with pytest.raises(ClientError) as error:
        control.update_api_key_credential_provider(
            name=provider["name"],
            apiKeySecretConfig={"secretId": "my-own-secret", "jsonKey": "key"},
        )
    assert error_of(error) == ("NotImplementedException", 501)


def test_the_sdk_decorator_reads_the_rotated_key_on_its_next_call(
    sdk_environment, control, provider, tmp_path, monkeypatch
):
    workload = control.create_workload_identity(name=f"wl-{uuid.uuid4().hex[:10]}")["name"]
    write_local_dev_config(workload, "job", tmp_path)
    monkeypatch.chdir(tmp_path)

    @requires_api_key(provider_name=provider["name"])
    def call_service(*, api_key: str) -> str:
        return api_key

    assert call_service() == provider["key"]
    rotated = _key()
    control.update_api_key_credential_provider(name=provider["name"], apiKey=rotated)
    assert call_service() == rotated
