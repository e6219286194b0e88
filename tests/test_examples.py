"""examples/ runs against a development server in make test, so it cannot rot (README).

``examples/creator_walkthrough.py`` is started as a person would start it (a subprocess, the
password in the environment) against ``dev_server`` (``make run``'s shape) and the real worker
delivering webhooks; it exits 0 only when every step of the creator flow worked, including a
webhook whose signature its own receiver verified with ``standardwebhooks``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.factories.users import signup
from tests.support import ROOT, Database, Server
from tests.webhooks.conftest import Worker, start_worker

WALKTHROUGH = ROOT / "examples" / "creator_walkthrough.py"


@pytest.fixture
def dev_worker(dev_server: Server, tmp_path: Path) -> Iterator[Worker]:
    worker = start_worker(dev_server.env, tmp_path / "worker.log", WORKER_POLL_SECONDS="0.2")
    yield worker
    worker.stop()


def test_creator_walkthrough_runs_end_to_end(
    dev_server: Server, dev_worker: Worker, db: Database
) -> None:
    email, password = signup(dev_server, db)
    env = {**os.environ, "LAUNCHPROOF_PASSWORD": password}
    result = subprocess.run(
        [sys.executable, str(WALKTHROUGH), "--base-url", dev_server.url, "--email", email],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr + dev_worker.log_text()[-2000:]
    assert "webhook verified: conversation.created" in result.stdout
    assert result.stdout.rstrip().endswith("done")
