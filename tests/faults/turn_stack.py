"""The turn-fault stack shared by tests/faults/test_turns.py and test_turn_race.py: an API
process with a short turn lease, and the real worker running only the orphaned-turn sweeper.
A test module imports ``turn_env``, ``turn_api`` and ``turn_sweeper``; its tests ask for
``env``, ``api`` and ``sweeper``."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import ServerFactory
from tests.support import ROOT, Database, Server, Stub, base_env, stop_process

LEASE_SECONDS = 2.0


@pytest.fixture(scope="module", name="env")
def turn_env(db: Database, stub: Stub) -> dict[str, str]:
    return base_env(
        db,
        OPENAI_BASE_URL=stub.base_url,
        CHAT_TURN_LEASE_SECONDS=str(LEASE_SECONDS),
        WORKER_POLL_SECONDS="0.2",
        OUTBOUND_DEV_ALLOWED_ADDRESSES="127.0.0.2",
    )


@pytest.fixture(name="api")
def turn_api(
    env: dict[str, str], server_factory: ServerFactory, tmp_path: Path
) -> Iterator[Server]:
    # A test may kill or freeze this process; it is stopped (or killed) at the end either way.
    with server_factory(env, log_path=tmp_path / "api.log") as server:
        yield server


@pytest.fixture(name="sweeper")
def turn_sweeper(env: dict[str, str], tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """The real worker running only the sweeper (other suites' jobs are not ours to take)."""
    log = (tmp_path / "worker.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "worker", "--jobs", "end_orphaned_turns"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    yield process
    stop_process(process)
