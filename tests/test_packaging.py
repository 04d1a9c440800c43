"""The conda environment, the lock and pyproject.toml ask for the same packages, and the
lock's versions are within pyproject.toml's ranges."""

import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

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


def test_the_lock_pins_every_dependency_within_pyprojects_range():
    """`make lock` writes requirements.lock from pyproject.toml; an edit of one without the
    other would install versions nobody tested, or fail."""
    pinned = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line and not line.startswith((" ", "#", "-")):
            pin = Requirement(line)
            pinned[canonicalize_name(pin.name)] = next(iter(pin.specifier)).version
    for wanted in map(Requirement, _wanted()):
        version = pinned.get(canonicalize_name(wanted.name))
        assert version is not None, f"{wanted.name} is not in requirements.lock: run make lock"
        assert wanted.specifier.contains(version), f"{wanted.name}=={version} is not {wanted}"
