"""Fixtures over tests/faults/harness.py: private dependencies that are always running again
after each test, a migrated database on the private PostgreSQL, and API/worker factories that
clean up the processes they started."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.faults.harness import (
    PrivateRedis,
    kill,
    start_api,
    start_worker,
)
from tests.faults.private_postgres import PrivatePostgres
from tests.support import Database, Server, stop_server


@pytest.fixture(scope="session")
def private_postgres_session() -> Iterator[PrivatePostgres]:
    pg = PrivatePostgres()
    pg.start()
    yield pg
    pg.destroy()


@pytest.fixture
def private_postgres(private_postgres_session: PrivatePostgres) -> Iterator[PrivatePostgres]:
    """The private PostgreSQL, running; a test may stop/kill it, it is restarted afterwards."""
    private_postgres_session.start()
    yield private_postgres_session
    private_postgres_session.start()


@pytest.fixture(scope="session")
def fault_db(private_postgres_session: PrivatePostgres) -> Database:
    """The project's roles and migrated schema on the private PostgreSQL."""
    return private_postgres_session.migrated_database()


@pytest.fixture(scope="session")
def private_redis_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateRedis]:
    redis = PrivateRedis(Path(tmp_path_factory.mktemp("private-redis")))
    redis.start()
    yield redis
    redis.destroy()


@pytest.fixture
def private_redis(private_redis_session: PrivateRedis) -> Iterator[PrivateRedis]:
    """The private Redis, running and thawed; restarted/thawed after the test."""
    private_redis_session.thaw()
    private_redis_session.start()
    yield private_redis_session
    private_redis_session.thaw()
    private_redis_session.start()


ApiFactory = Callable[..., Server]


@pytest.fixture
def api_factory(
    fault_db: Database, private_redis: PrivateRedis, tmp_path: Path
) -> Iterator[ApiFactory]:
    """``api_factory(overrides={...}, redis=True)``: an API on the private dependencies."""
    servers: list[Server] = []

    def factory(*, overrides: dict[str, str] | None = None, redis: bool = True) -> Server:
        server = start_api(
            fault_db,
            private_redis if redis else None,
            tmp_path / f"api-{len(servers)}.log",
            overrides,
        )
        servers.append(server)
        return server

    yield factory
    for server in servers:
        if server.process.poll() is None:
            stop_server(server)


WorkerFactory = Callable[..., "subprocess.Popen[bytes]"]


@pytest.fixture
def worker_factory(
    fault_db: Database, private_redis: PrivateRedis, tmp_path: Path
) -> Iterator[WorkerFactory]:
    """``worker_factory(*args, **env)``: ``python -m app worker`` on the private dependencies."""
    workers: list[subprocess.Popen[bytes]] = []

    def factory(*args: str, **extra: str) -> subprocess.Popen[bytes]:
        process = start_worker(
            fault_db, private_redis, tmp_path / f"worker-{len(workers)}.log", *args, **extra
        )
        workers.append(process)
        return process

    yield factory
    for process in workers:
        kill(process)
