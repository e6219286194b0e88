"""A files server with a real scanner: uvicorn + the worker + clamd, on loopback.

Limits are small so the tests can cross them cheaply: 1 MiB per upload, 3 MiB per workspace.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.scanner import Clamd
from tests.servers import ServerFactory
from tests.support import (
    ROOT,
    Database,
    Server,
    Stub,
    base_env,
    free_port,
    migrated_database,
    stop_process,
)

UPLOAD_LIMIT = 1024 * 1024
QUOTA = 3 * 1024 * 1024
ARCHIVE_MAX_ENTRIES = 50
ARCHIVE_MAX_EXPANDED = 2 * 1024 * 1024


@dataclass
class Stack:
    server: Server
    worker: subprocess.Popen[bytes]
    worker_metrics_port: int


def start_worker(
    env: dict[str, str], log_path: Path, *, metrics_port: int | None = None
) -> subprocess.Popen[bytes]:
    log = log_path.open("wb")
    metrics = ["--metrics-port", str(metrics_port)] if metrics_port else []
    return subprocess.Popen(
        [sys.executable, "-m", "app", "worker", "--jobs", "scan_files", *metrics],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def scanning_env(db: Database, clamd: Clamd, storage_dir: Path, **extra: str) -> dict[str, str]:
    return base_env(
        db,
        CLAMD_URL=clamd.url,
        SCANNER_DISABLED="false",
        STORAGE_LOCAL_DIR=str(storage_dir),
        MAX_UPLOAD_BODY_BYTES=str(UPLOAD_LIMIT),
        FILE_WORKSPACE_QUOTA_BYTES=str(QUOTA),
        FILE_ARCHIVE_MAX_ENTRIES=str(ARCHIVE_MAX_ENTRIES),
        FILE_ARCHIVE_MAX_EXPANDED_BYTES=str(ARCHIVE_MAX_EXPANDED),
        WORKER_POLL_SECONDS="0.2",
        # The quota race test sends five uploads at once; the caps have tests of their own.
        UPLOAD_MAX_CONCURRENT_PER_USER="10",
        **extra,
    )


@pytest.fixture(scope="session")
def files_stack(
    db: Database,
    stub: Stub,
    clamd: Clamd,
    server_factory: ServerFactory,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    state = Path(tmp_path_factory.mktemp("files"))
    env = scanning_env(db, clamd, state / "objects", OPENAI_BASE_URL=stub.base_url)
    with server_factory(env, log_path=state / "server.log") as server:
        metrics_port = free_port()
        worker = start_worker(server.env, state / "worker.log", metrics_port=metrics_port)
        yield Stack(server=server, worker=worker, worker_metrics_port=metrics_port)
        stop_process(worker)


@pytest.fixture(scope="module")
def own_db() -> Iterator[Database]:
    """A database of its own, for a stack whose worker must not meet the shared files worker
    (every worker of one deployment shares one storage; two test stacks do not)."""
    with migrated_database() as database:
        yield database


@pytest.fixture(scope="session")
def files_server(files_stack: Stack) -> Server:
    return files_stack.server


@pytest.fixture
def storage_dir(files_server: Server) -> Path:
    return Path(files_server.env["STORAGE_LOCAL_DIR"])
