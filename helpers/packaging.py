"""Quickstart step 7, second part: the deployment zip and where AgentCore Runtime reads it.

This is the direct-code path: a flat zip of ``agent/`` in S3 (``codeConfiguration``),
its dependencies at the root, built for the runtime's Python on Linux arm64, in the
versions the tests passed with (requirements.lock). Workshop state and credentials never
go into it, nor anything that names this machine's paths.
"""

import hashlib
import shutil
import subprocess
import sys
import zipfile
from fnmatch import fnmatch
from pathlib import Path

from helpers.agent_code import PYTHON_RUNTIME
from helpers.backend import Backend
from helpers.errors import WorkshopError, explain
from helpers.paths import AGENT_DIR, REPOSITORY, build_dir
from helpers.runtime import runtime_name
from helpers.state import Kind, WorkshopState

# Never deployed: workshop state, credentials, local-development and build leftovers.
EXCLUDED = (".agentcore*", ".env", "*.env", ".workshop", ".bedrock_agentcore.yaml", "__pycache__")
EXCLUDED_SUFFIXES = (".pyc",)
# The versions the tests passed with: the agent's dependencies, and theirs, are installed
# in these versions (`make lock` writes it).
LOCK = REPOSITORY / "requirements.lock"
# pip writes its console scripts to the target's bin/, their shebang naming this machine's
# interpreter (#!/…/.venv/bin/python): useless on AgentCore Runtime, which starts the entry
# point itself, and a leak of the build machine's paths. Left out.
SCRIPTS = "bin"


def _is_excluded(relative: Path) -> bool:
    return relative.suffix in EXCLUDED_SUFFIXES or any(
        fnmatch(part, pattern) for part in relative.parts for pattern in EXCLUDED
    )


def _dependencies(requirements: Path) -> Path:
    """Wheels for AgentCore Runtime's platform, installed once per requirements file."""
    pinned = requirements.read_bytes() + LOCK.read_bytes() + PYTHON_RUNTIME.encode()
    digest = hashlib.sha256(pinned).hexdigest()[:16]
    target = build_dir() / f"dependencies-{digest}"
    if target.is_dir():
        return target
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    version = PYTHON_RUNTIME.removeprefix("PYTHON_").replace("_", ".")
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--platform",
        "manylinux2014_aarch64",
        "--implementation",
        "cp",
        "--python-version",
        version,
        "--only-binary=:all:",
        "--target",
        str(partial),
        "-r",
        str(requirements),
        "--constraint",
        str(LOCK),
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise WorkshopError(f"Installing the agent's dependencies failed:\n{result.stderr[-2000:]}")
    partial.rename(target)
    return target


def package(backend: Backend, source: Path = AGENT_DIR, out: Path | None = None) -> Path:
    """The deployment zip: the agent's files, plus (on AWS) its dependencies at the root."""
    out = out or build_dir() / "agent.zip"
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        if backend.bundles_dependencies:
            dependencies = _dependencies(source / "requirements.txt")
            _add(archive, dependencies, skip=dependencies / SCRIPTS)
        _add(archive, source)
    return out


def _add(archive: zipfile.ZipFile, root: Path, skip: Path | None = None) -> None:
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        kept = skip is None or not path.is_relative_to(skip)
        if path.is_file() and kept and not _is_excluded(relative):
            archive.write(path, relative.as_posix())


def contents(archive: Path) -> list[str]:
    with zipfile.ZipFile(archive) as opened:
        return opened.namelist()


def upload(
    backend: Backend, state: WorkshopState, archive: Path, name: str | None = None
) -> dict[str, str]:
    """Put the zip in the workshop's own bucket under the runtime's ``name`` (the quickstart
    agent's by default); return the S3 location for the runtime."""
    s3 = backend.client("s3")
    bucket = f"agentcore-workshop-{backend.account}-{state.suffix}"
    if state.get("code_bucket") is None:
        location = (
            {}
            if backend.region == "us-east-1"
            else {"CreateBucketConfiguration": {"LocationConstraint": backend.region}}
        )
        with explain(f"Creating the S3 bucket {bucket}"):
            s3.create_bucket(Bucket=bucket, **location)
        state.record("code_bucket", Kind.CODE_BUCKET, name=bucket)
    key = f"{name or runtime_name(state)}/agent.zip"
    with explain(f"Uploading the agent to s3://{bucket}/{key}"):
        s3.upload_file(str(archive), bucket, key)
    return {"bucket": bucket, "prefix": key}
