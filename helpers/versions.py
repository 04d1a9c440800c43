"""What the learner's Python has, for the prerequisites check."""

import sys
from importlib.metadata import PackageNotFoundError, version

REQUIRED = (
    "boto3",
    "botocore",
    "bedrock-agentcore",
    "strands-agents",
    "jupyterlab",
    "ipywidgets",
    "papermill",
    "moto",
)
MINIMUM_PYTHON = (3, 11)


def installed(package: str) -> str | None:
    try:
        return version(package)
    except PackageNotFoundError:
        return None


def report() -> list[dict[str, str]]:
    """One row per requirement: what is installed, and whether it will do."""
    python = ".".join(map(str, sys.version_info[:3]))
    rows = [
        {
            "Package": "Python",
            "Version": python,
            "OK": "yes" if sys.version_info >= MINIMUM_PYTHON else "no: need 3.11+",
        }
    ]
    for package in REQUIRED:
        found = installed(package)
        rows.append(
            {
                "Package": package,
                "Version": found or "missing",
                "OK": "yes" if found else "no: run `make lab` to install",
            }
        )
    return rows
