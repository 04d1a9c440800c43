"""The conda environment, the lock and pyproject.toml ask for the same packages, the
lock's versions are within pyproject.toml's ranges, and the deployed agent asks for them."""

import tomllib
import zipfile
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from helpers.backend import Backend
from helpers.packaging import package

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _wanted() -> set[str]:
    return set(PROJECT["dependencies"]) | set(PROJECT["optional-dependencies"]["dev"])


def test_environment_yml_agrees_with_pyproject():
    project = PROJECT
    wanted = _wanted()
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict))
    assert {line for line in pip_section if not line.startswith("-")} == wanted
    assert "python=3.11" in environment["dependencies"]
    assert project["requires-python"] == ">=3.11"


def _locked() -> dict[str, str]:
    pinned = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line and not line.startswith((" ", "#", "-")):
            pin = Requirement(line)
            pinned[canonicalize_name(pin.name)] = next(iter(pin.specifier)).version
    return pinned


def test_the_lock_pins_every_dependency_within_pyprojects_range():
    """`make lock` writes requirements.lock from pyproject.toml; an edit of one without the
    other would install versions nobody tested, or fail."""
    pinned = _locked()
    for wanted in map(Requirement, _wanted()):
        version = pinned.get(canonicalize_name(wanted.name))
        assert version is not None, f"{wanted.name} is not in requirements.lock: run make lock"
        assert wanted.specifier.contains(version), f"{wanted.name}=={version} is not {wanted}"


def test_the_deployed_agent_asks_for_the_versions_the_tests_passed_with(tmp_path):
    """The zip's requirements.txt, what its dependencies are installed from, pins each to
    the lock's version: on AWS the agent runs what the tests ran (`make lock` moves both)."""
    with zipfile.ZipFile(package(Backend("local", "us-east-1"), out=tmp_path / "a.zip")) as zipped:
        lines = zipped.read("requirements.txt").decode().splitlines()
    wanted = [Requirement(line) for line in lines if line.strip() and not line.startswith("#")]
    pinned = _locked()
    assert wanted
    for requirement in wanted:
        pins = [(spec.operator, spec.version) for spec in requirement.specifier]
        assert pins == [("==", pinned[canonicalize_name(requirement.name)])], requirement


def test_the_lock_leaves_out_the_grammar_jsonschema_would_build_at_every_import():
    """rfc3987-syntax costs over a second of CPU in each process that imports jsonschema:
    every runner, agent and JupyterLab. pyproject.toml's [tool.uv] leaves it out."""
    (line,) = [
        line
        for line in (ROOT / "requirements.lock").read_text().splitlines()
        if line.startswith("rfc3987-syntax==")
    ]
    assert not Requirement(line).marker.evaluate()
