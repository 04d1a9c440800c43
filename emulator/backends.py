"""moto's backends: one per account and region, for moto's services and ours alike."""

import functools

import boto3
from moto.core.base_backend import BackendDict


@functools.cache
def _bedrock_regions() -> tuple[str, ...]:
    """Read once: each new boto3 session parses botocore's endpoint data again."""
    return tuple(boto3.Session().get_available_regions("bedrock"))


def agentcore_backends(backend_class: type) -> BackendDict:
    """A `BackendDict` for an AgentCore service of ours (so `/moto-api/reset` clears it too).

    botocore has no endpoint data for AgentCore yet: serve every Bedrock region.
    """
    return BackendDict(
        backend_class,
        "bedrock-agentcore",
        use_boto3_regions=False,
        additional_regions=list(_bedrock_regions()),
    )


def every_backend(backends: BackendDict) -> list:
    """Each account's and region's backend that exists: for requests that name neither."""
    return [
        backend
        for account_backends in list(backends.values())
        for backend in list(account_backends.values())
    ]
