"""Liveness, readiness and the dependency report.

``/readyz`` fails only for the database (what every route needs); a dead Redis leaves the API
ready and is reported by ``/readyz/dependencies`` and the gauge, by name and nothing else.
The database side (readiness 503 while PostgreSQL is down) is in tests/faults/test_database.py.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.servers import ServerFactory
from tests.support import Database, Server, base_env, free_port

pytestmark = pytest.mark.checklist(
    "C11",
    red="make /readyz fail on a dead Redis, report more than the dependency's name in "
    "/readyz/dependencies, or probe on every call",
)

SECRETS_OF = ("127.0.0.1", "redis://", "hunter2-redis-pass", "6379")


@pytest.fixture
def redis_down_server(
    db: Database, server_factory: ServerFactory, tmp_path: Path
) -> Iterator[tuple[Server, int]]:
    """A server whose Redis is a closed loopback port (nothing listens there).

    Started on ``/readyz``: a dead Redis does not make the API unready.
    """
    port = free_port()
    env = base_env(db, REDIS_URL=f"redis://:hunter2-redis-pass@127.0.0.1:{port}/0")
    with server_factory(env, log_path=tmp_path / "server.log", ready_path="/readyz") as srv:
        yield srv, port


def test_readyz_ok_when_every_dependency_answers(server: Server) -> None:
    response = httpx.get(server.url + "/readyz", timeout=10)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    report = httpx.get(server.url + "/readyz/dependencies", timeout=10)
    assert report.status_code == 200
    body = report.json()
    assert body["status"] == "ok"
    assert set(body["dependencies"].values()) == {"up"}
    assert {"database", "storage"} <= set(body["dependencies"])


def test_a_dead_redis_leaves_the_api_ready_and_is_reported_by_name_only(
    redis_down_server: tuple[Server, int],
) -> None:
    srv, port = redis_down_server
    ready = httpx.get(srv.url + "/readyz", timeout=10)
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok"}
    started = time.monotonic()
    report = httpx.get(srv.url + "/readyz/dependencies", timeout=10)
    assert time.monotonic() - started < 3.0  # short probe timeouts, not the client's
    assert report.status_code == 200
    assert report.json() == {
        "status": "degraded",
        "dependencies": {"database": "up", "redis": "down", "storage": "up"},
    }
    for secret in (*SECRETS_OF, str(port)):
        assert secret not in report.text
    # Liveness touches nothing.
    health = httpx.get(srv.url + "/healthz", timeout=10)
    assert health.status_code == 200
    assert health.json() == {"status": "ok"}


def test_polling_the_report_does_not_multiply_probes(
    redis_down_server: tuple[Server, int],
) -> None:
    """40 anonymous calls in a burst share the cached result: at most two rounds of probes."""
    srv, _port = redis_down_server
    time.sleep(0.5)  # let the startup round finish
    before = srv.log_text().count('"dependency": "redis"')
    with ThreadPoolExecutor(8) as pool:
        statuses = list(
            pool.map(
                lambda _: httpx.get(srv.url + "/readyz/dependencies", timeout=10).status_code,
                range(40),
            )
        )
    assert statuses == [200] * 40
    probes = srv.log_text().count('"dependency": "redis"') - before
    assert probes <= 2, probes
