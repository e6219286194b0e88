"""A planted secret and the git calls that commit it to a throwaway repository: the secret scan
(tests/infra/test_secret_scan.py) and the scorecard's repository checks
(tests/scorecard/test_limits_repo.py) prove they can fail with them.
"""

from __future__ import annotations

import os
import secrets
import string
from pathlib import Path

from tests.commands import run_command


def fake_github_token() -> str:
    """A GitHub-token-shaped string made at run time, so no file in this repository holds one."""
    alphabet = string.ascii_letters + string.digits
    return "ghp" + "_" + "".join(secrets.choice(alphabet) for _ in range(36))


def git(repo: Path, *args: str) -> None:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(repo), "GIT_CONFIG_NOSYSTEM": "1"}
    identity = ["-c", "user.name=Planted", "-c", "user.email=planted@example.invalid"]
    result = run_command(["git", *identity, *args], cwd=repo, env=env)
    assert result.returncode == 0, result.stderr
