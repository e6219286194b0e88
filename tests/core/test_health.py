"""Liveness and readiness: /readyz names the failing hard dependency and nothing else."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import Database, Server, base_env, free_port, start_server, stop_server


@pytest.fixture
def redis_down_server(db: Database, tmp_path: Path) -> Iterator[tuple[Server, int]]:
    """A server whose Redis is a closed loopback port (nothing listens there)."""
    port = free_port()
    srv = start_server(
        base_env(db, REDIS_URL=f"redis://:hunter2-redis-pass@127.0.0.1:{port}/0"),
        tmp_path / "server.log",
        ready_path="/healthz",
    )
    yield srv, port
    stop_server(srv)


def test_readyz_ok_when_every_dependency_answers(server: Server) -> None:
    response = httpx.get(server.url + "/readyz", timeout=10)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_names_a_dead_redis_without_its_address(
    redis_down_server: tuple[Server, int],
) -> None:
    srv, port = redis_down_server
    started = time.monotonic()
    response = httpx.get(srv.url + "/readyz", timeout=10)
    assert time.monotonic() - started < 3.0  # short timeouts, not the client's
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "failing": ["redis"]}
    for secret in (str(port), "127.0.0.1", "redis://", "hunter2-redis-pass", "6379"):
        assert secret not in response.text
    # Liveness touches nothing: the process answers although a dependency is down.
    health = httpx.get(srv.url + "/healthz", timeout=10)
    assert health.status_code == 200
    assert health.json() == {"status": "ok"}
