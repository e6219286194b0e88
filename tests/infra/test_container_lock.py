"""The image's dependency locks match pyproject.toml, offline.

requirements/runtime.txt is what the image installs (``pip install --require-hashes``): every
runtime dependency of pyproject.toml pinned at a version its range allows, every pin hashed, and
nothing from the dev/test/load extras. A dependency added, removed or re-ranged in pyproject.toml
without ``make lock`` fails here. ``uv pip compile --dry-run`` would need the index; this check
reads the files only.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.support import ROOT

pytestmark = pytest.mark.checklist(
    "C14",
    red="add or re-range a runtime dependency in pyproject.toml without `make lock`, or lock a "
    "pin without hashes or a development-only package",
)

REQUIREMENTS = ROOT / "requirements"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def pins(path: Path) -> dict[str, tuple[Version, int]]:
    """name -> (version, number of hashes) for each pinned requirement in a hashed lock."""
    found: dict[str, tuple[Version, int]] = {}
    current: str | None = None
    for line in path.read_text().splitlines():
        match = PIN.match(line)
        if match:
            current = canonicalize_name(match.group(1))
            version, hashes = Version(match.group(2)), found.get(current, (None, 0))[1]
            found[current] = (version, hashes)
        elif current and line.strip().startswith("--hash=sha256:"):
            version, hashes = found[current]
            found[current] = (version, hashes + 1)
        elif line and not line.startswith((" ", "#")):
            raise AssertionError(f"{path.name}: not a pinned, hashed requirement: {line!r}")
    return found


def project() -> dict[str, Any]:
    data: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return data


def drift(runtime: dict[str, tuple[Version, int]], dependencies: list[str]) -> list[str]:
    problems: list[str] = []
    for spec in dependencies:
        requirement = Requirement(spec)
        name = canonicalize_name(requirement.name)
        if name not in runtime:
            problems.append(f"{name} is in pyproject.toml but not in the lock")
        elif not requirement.specifier.contains(runtime[name][0], prereleases=True):
            problems.append(f"{name}=={runtime[name][0]} is outside {requirement.specifier}")
    return problems


def test_every_runtime_dependency_is_locked_within_its_range() -> None:
    dependencies = project()["dependencies"]
    assert isinstance(dependencies, list)
    assert drift(pins(REQUIREMENTS / "runtime.txt"), dependencies) == []


def test_every_pin_carries_hashes() -> None:
    for lock in ("runtime.txt", "build.txt"):
        unhashed = [name for name, (_, hashes) in pins(REQUIREMENTS / lock).items() if not hashes]
        assert unhashed == [], lock


def test_the_lock_holds_no_development_only_package() -> None:
    runtime = pins(REQUIREMENTS / "runtime.txt")
    extras = project()["optional-dependencies"]
    assert isinstance(extras, dict)
    required = {canonicalize_name(Requirement(spec).name) for spec in project()["dependencies"]}
    development = {
        canonicalize_name(Requirement(spec).name) for specs in extras.values() for spec in specs
    }
    # A package both extras and the runtime need (pyyaml through uvicorn[standard]) may stay.
    leaked = sorted((development - required) & set(runtime) - {"pyyaml"})
    assert leaked == []


def test_the_build_lock_satisfies_the_build_system() -> None:
    build = pins(REQUIREMENTS / "build.txt")
    system = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    assert drift(build, system) == []


def test_drift_is_detected() -> None:
    """The checks can fail: a new dependency, and a range the pin no longer meets."""
    runtime = pins(REQUIREMENTS / "runtime.txt")
    assert drift(runtime, ["left-pad>=1"]) == ["left-pad is in pyproject.toml but not in the lock"]
    fastapi = runtime["fastapi"][0]
    assert drift(runtime, [f"fastapi>{fastapi}"]) != []
