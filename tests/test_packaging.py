"""The conda environment and pyproject.toml ask for the same packages at the same pins."""

import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_environment_yml_agrees_with_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = set(project["dependencies"]) | set(project["optional-dependencies"]["dev"])
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict))
    assert {line for line in pip_section if not line.startswith("-")} == wanted
    assert "python=3.11" in environment["dependencies"]
    assert project["requires-python"] == ">=3.11"
