"""Scorecard fixtures: the project's stack in production mode (tests/scorecard/stack.py)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from tests.scanner import Clamd
from tests.scorecard.stack import Report, Stack, run_check, start_stack
from tests.support import Database


@pytest.fixture(scope="session")
def scorecard_stack(
    db: Database, clamd: Clamd, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """TLS + plain-http listeners, local DNS, clamd, two verified accounts (session-wide)."""
    with ExitStack() as exits:
        yield start_stack(db, clamd, tmp_path_factory.mktemp("scorecard"), exits)


@pytest.fixture(scope="session")
def scorecard_report(scorecard_stack: Stack) -> tuple[subprocess.CompletedProcess[str], Report]:
    """One full ``python -m app check --format json`` run against the stack, shared by the rows'
    tests (a run costs seconds and a few hundred requests of the stack's rate limits)."""
    return run_check(scorecard_stack)
