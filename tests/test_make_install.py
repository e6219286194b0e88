"""``make run`` installs what running needs; ``make test`` installs the rest (README).

``make -n`` on a copy with no virtual environment prints the install each target would run.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.fresh_clone import clone_like_copy, plain_env

EXTRAS = re.compile(r"pip install .*-e '\.\[([a-z,]*)\]'")


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return clone_like_copy(tmp_path_factory.mktemp("make") / "launchproof")


def installed_extras(copy: Path, target: str) -> set[str]:
    plan = subprocess.run(
        ["make", "-n", target], cwd=copy, env=plain_env(), capture_output=True, text=True
    )
    assert plan.returncode == 0, plan.stderr
    extras = {extra for match in EXTRAS.findall(plan.stdout) for extra in match.split(",")}
    assert extras, plan.stdout
    return extras


@pytest.mark.parametrize("target", ["run", "worker", "migrate", "create-user"])
def test_running_installs_the_package_and_the_dev_extra_only(copy: Path, target: str) -> None:
    assert installed_extras(copy, target) == {"dev"}


@pytest.mark.parametrize("target", ["test", "pytest", "lint"])
def test_testing_installs_test_and_load_as_well(copy: Path, target: str) -> None:
    assert installed_extras(copy, target) == {"dev", "test", "load"}
