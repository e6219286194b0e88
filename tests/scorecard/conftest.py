"""Scorecard fixtures: the project's stack in production mode (tests/scorecard/stack.py)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from tests.scanner import Clamd
from tests.scorecard.stack import Report, Stack, run_check, start_stack
from tests.support import Database, migrated_database


@pytest.fixture(scope="session")
def scorecard_db() -> Iterator[Database]:
    """The stack's own database: every scan worker claims queued files across workspaces, and
    the files suite's session-wide worker (another storage directory) would otherwise take the
    stack's uploads and leave them pending (files.download_headers NOT CHECKED)."""
    with migrated_database() as database:
        yield database


@pytest.fixture(scope="session")
def scorecard_stack(
    scorecard_db: Database, clamd: Clamd, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """TLS + plain-http listeners, local DNS, clamd, two verified accounts (session-wide)."""
    with ExitStack() as exits:
        yield start_stack(scorecard_db, clamd, tmp_path_factory.mktemp("scorecard"), exits)


@pytest.fixture(scope="session")
def scorecard_report(scorecard_stack: Stack) -> tuple[subprocess.CompletedProcess[str], Report]:
    """One full ``python -m app check --format json`` run against the stack, shared by the rows'
    tests (a run costs seconds and a few hundred requests of the stack's rate limits)."""
    return run_check(scorecard_stack)


@pytest.fixture(scope="session")
def vulnerable_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The deliberately vulnerable app dressed as the stack (tests/scorecard/vulnerable)."""
    from tests.scorecard.vulnerable.server import start

    with start(tmp_path_factory.mktemp("vulnerable")) as stack:
        yield stack
