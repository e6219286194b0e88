"""Commands the tests run as subprocesses (git, scanners, linters), output captured as text."""

from __future__ import annotations

import subprocess
from pathlib import Path


def run_command(
    args: list[str],
    cwd: Path,
    env: dict[str, str] | None = None,
    *,
    stdin: str | None = None,
    timeout: float = 110,
) -> subprocess.CompletedProcess[str]:
    """``args`` run to completion, output captured as text; a failure is a return code to check."""
    return subprocess.run(
        args,
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
