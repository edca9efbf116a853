"""The suite runs on the package versions production runs.

Cloudflare's Pyodide ships its own pydantic, pydantic-core, Pillow and the rest;
constraints/production.txt pins them, and every install this project documents
(README, scripts/test.sh, scripts/dev.sh) uses it. These tests fail when the installed
versions are not those pins, so a green suite means "tested on production's versions".
`PIXHAVEN_ANY_VERSIONS=1` skips the version check, for a run on purpose on other versions
(README, "Two commands"); nothing else reads it.
"""

import os
import re
import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
CONSTRAINTS = ROOT / "constraints" / "production.txt"
INSTALL_FLAG = "-c constraints/production.txt"


def pins() -> dict[str, str]:
    """The `name==version` lines of constraints/production.txt, by canonical name."""
    found = {}
    for line in CONSTRAINTS.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        requirement = Requirement(line)
        (spec,) = requirement.specifier  # one exact pin per line, nothing looser
        assert spec.operator == "==", f"{line!r}: production's versions are exact pins"
        found[canonicalize_name(requirement.name)] = spec.version
    return found


def test_the_constraints_pin_production_packages():
    # The three the issue names; the file's header says where each pin comes from.
    assert {"pydantic", "pydantic-core", "pillow"} <= set(pins())


@pytest.mark.skipif(
    os.environ.get("PIXHAVEN_ANY_VERSIONS") == "1",
    reason="PIXHAVEN_ANY_VERSIONS=1: running on other versions than production's on purpose",
)
@pytest.mark.parametrize("name", sorted(pins()))
def test_installed_version_is_productions(name):
    try:
        installed = version(name)
    except PackageNotFoundError:
        installed = "not installed"
    assert installed == pins()[name], (
        f"{name} {installed} is installed, production runs {pins()[name]}: install with "
        f"`pip install -e '.[local,test]' {INSTALL_FLAG}` "
        "(or set PIXHAVEN_ANY_VERSIONS=1 to test other versions on purpose)"
    )


def test_pyproject_accepts_the_pins():
    """pyproject.toml's ranges stay open (newer releases too) but must admit every pin."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = [*project["dependencies"], *project["optional-dependencies"]["local"]]
    pinned = pins()
    for line in declared:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        if name in pinned:
            assert requirement.specifier.contains(pinned[name]), (line, pinned[name])
            assert not str(requirement.specifier).startswith("=="), (
                f"{line!r}: pin production's version in constraints/production.txt, "
                "not in pyproject.toml"
            )


@pytest.mark.parametrize("script", ["scripts/test.sh", "scripts/dev.sh"])
def test_every_install_uses_the_constraints(script):
    installs = [
        line
        for line in (ROOT / script).read_text().splitlines()
        if re.search(r"pip install .*-e ", line)
    ]
    assert installs, f"{script} installs Pixhaven"
    assert all(INSTALL_FLAG in line for line in installs), installs


def test_readme_gives_the_install_with_the_constraints():
    readme = (ROOT / "README.md").read_text()
    assert f"pip install -e '.[local,test]' {INSTALL_FLAG}" in readme
    assert "PIXHAVEN_ANY_VERSIONS" in readme
