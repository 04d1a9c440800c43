"""Credential-provider secrets live in (moto's) Secrets Manager, as on AgentCore Identity."""

import json
import uuid

from moto.secretsmanager.models import secretsmanager_backends


def _backend(account: str, region: str):
    return secretsmanager_backends[account][region]


def store(account: str, region: str, name: str, value: dict[str, str]) -> str:
    """Create or replace the secret ``name``; return its ARN."""
    secrets = _backend(account, region)
    if name in secrets.secrets:
        secrets.update_secret(
            name, secret_string=json.dumps(value), client_request_token=str(uuid.uuid4())
        )
    else:
        secrets.create_secret(
            name=name,
            secret_string=json.dumps(value),
            secret_binary=None,
            description="Managed by the AgentCore Identity emulator",
            tags=None,
            kms_key_id=None,
            client_request_token=None,
            replica_regions=[],
            force_overwrite=False,
        )
    return secrets.secrets[name].arn


def read(account: str, region: str, name: str) -> dict[str, str]:
    value = _backend(account, region).get_secret_value(name, None, None)
    return json.loads(value["SecretString"])


def delete(account: str, region: str, name: str) -> None:
    secrets = _backend(account, region)
    if name in secrets.secrets:
        secrets.delete_secret(name, None, True)
