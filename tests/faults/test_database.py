"""PostgreSQL lost under load: 503 + Retry-After, never a 500; recovery without an API restart.

All against a PRIVATE PostgreSQL (tests/faults/harness.py), stopped, killed, restarted on the
same port, its backends terminated, and a proxy that cuts a connection during COMMIT.
Figures are printed (``-s``) and recorded in docs/reliability.md.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.factories.users import create_actor
from tests.faults.conftest import ApiFactory
from tests.faults.harness import (
    Load,
    PrivateRedis,
    TcpProxy,
    five_hundreds,
    start_api,
    via_proxy,
)
from tests.faults.private_postgres import PrivatePostgres
from tests.support import Actor, Database, stop_server

HOST_HINTS = ("127.0.0.1", "localhost", "postgres", "asyncpg", "5432")


def _assert_clean_503(response: httpx.Response, codes: set[str], port: int) -> None:
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["retry-after"]) >= 1
    body = response.json()
    assert body["code"] in codes, body
    for hint in (*HOST_HINTS, str(port)):
        assert hint not in response.text


def _mixed_requests(actor: Actor) -> Load:
    """Reads (/v1/me) and writes (create a workspace), alternately."""
    counter = itertools.count()
    headers = actor.headers()

    def request(client: httpx.Client) -> httpx.Response:
        n = next(counter)
        if n % 2:
            return client.post(
                actor.server.url + "/v1/workspaces", json={"name": f"ws {n}"}, headers=headers
            )
        return client.get(actor.server.url + "/v1/me", headers=headers)

    return Load(request, max_requests=3000, max_seconds=60, pause=0.02)


@pytest.mark.parametrize("fault", ["fast", "immediate", "kill"])
def test_database_lost_and_restarted_mid_load(
    fault: str, private_postgres: PrivatePostgres, fault_db: Database, api_factory: ApiFactory
) -> None:
    api = api_factory()
    actor = create_actor(api, fault_db, "load")
    with _mixed_requests(actor) as load:
        load.wait_for(lambda status: status in (200, 201))
        load.mark("fault")
        if fault == "kill":
            private_postgres.kill()
        else:
            private_postgres.stop(fault)  # type: ignore[arg-type]
        load.wait_for(lambda status: status == 503)
        ready = httpx.get(api.url + "/readyz", timeout=10)
        assert ready.status_code == 503
        assert ready.json() == {"status": "unavailable", "failing": ["database"]}
        assert httpx.get(api.url + "/healthz", timeout=10).status_code == 200
        time.sleep(2)  # down for a while, not an instant
        load.mark("restart")
        private_postgres.start()
        load.wait_for(lambda status: status in (200, 201), timeout=30)
        load.mark("recovered")
        time.sleep(1)
    counts = load.counts
    during = load.between("fault", "recovered")
    print(  # noqa: T201 - the figures, shown with -s
        f"\n[{fault}] answers by status: {dict(counts)}; during outage: {len(during)};"
        f" max latency {load.max_latency:.2f} s"
    )
    assert five_hundreds(load.records) == [], [r[3].text for r in five_hundreds(load.records)]
    assert counts[0] == 0  # no transport error: every request got an answer
    # Nothing else either: a 401 here would mean an acknowledged commit (the session) was lost.
    assert set(counts) <= {200, 201, 503}, counts
    assert counts[503] >= 5
    for _start, _duration, status, response in load.records:
        if status == 503:
            assert response is not None
            _assert_clean_503(
                response,
                {"database_unavailable", "database_busy", "outcome_unknown"},
                private_postgres.port,
            )
    assert load.max_latency < 7.0  # a refused connection is answered at once, not at a timeout
    # Recovered without restarting the API: the same process serves reads and writes again.
    assert actor.get("/v1/me").status_code == 200
    assert actor.post("/v1/workspaces", json={"name": "after"}).status_code == 201
    assert httpx.get(api.url + "/readyz", timeout=10).status_code == 200


def _warm_pool(actor: Actor, parallel: int = 8) -> None:
    threads = [threading.Thread(target=actor.get, args=("/v1/me",)) for _ in range(parallel)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_terminated_backends_do_not_fail_the_next_requests(
    private_postgres: PrivatePostgres, fault_db: Database, api_factory: ApiFactory
) -> None:
    """pg_terminate_backend of every pooled connection: the pre-ping replaces them."""
    api = api_factory()
    actor = create_actor(api, fault_db, "term")
    _warm_pool(actor)
    statuses = []
    for _round in range(3):
        killed = private_postgres.terminate_backends()
        assert killed >= 1
        statuses += [actor.get("/v1/me").status_code for _ in range(10)]
        statuses.append(actor.post("/v1/workspaces", json={"name": "t"}).status_code)
    print(  # noqa: T201 - the figures, shown with -s
        f"\nafter terminating backends: {statuses}"
    )
    assert set(statuses) <= {200, 201}, statuses


def test_without_pre_ping_a_terminated_connection_is_a_503_never_a_500(
    private_postgres: PrivatePostgres, fault_db: Database, api_factory: ApiFactory
) -> None:
    """Ping turned off: the stale connection answers 503 (safe to retry), never a 500."""
    api = api_factory(overrides={"DATABASE_POOL_PRE_PING": "false"})
    actor = create_actor(api, fault_db, "noping")
    actor.get("/v1/me")
    assert private_postgres.terminate_backends() >= 1
    statuses = [actor.get("/v1/me") for _ in range(5)]
    codes = [r.status_code for r in statuses]
    print(  # noqa: T201 - the figures, shown with -s
        f"\nwithout pre-ping, after terminating: {codes}"
    )
    assert 503 in codes
    assert set(codes) <= {200, 503}
    for response in statuses:
        if response.status_code == 503:
            _assert_clean_503(response, {"database_unavailable"}, private_postgres.port)
    assert codes[-1] == 200  # one stale connection costs one request, not the pool


@pytest.fixture
def commit_proxy(private_postgres: PrivatePostgres) -> Iterator[TcpProxy]:
    proxy = TcpProxy(private_postgres.port)
    yield proxy
    proxy.close()


def test_connection_lost_during_commit_answers_outcome_unknown(
    fault_db: Database,
    commit_proxy: TcpProxy,
    private_redis: PrivateRedis,
    tmp_path: object,
) -> None:
    """The write reached the server and committed; the answer did not come back: the client is
    told the outcome is unknown and how to retry, never "nothing was changed" and never a 500."""
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    api = start_api(via_proxy(fault_db, commit_proxy), private_redis, tmp_path / "api.log")
    try:
        actor = create_actor(api, fault_db, "commit")
        name = f"commit-{time.monotonic_ns()}"
        commit_proxy.cut_after(b"COMMIT")
        response = actor.post("/v1/workspaces", json={"name": name})
        assert commit_proxy.cuts == 1
        print(  # noqa: T201
            f"\ncut during COMMIT: {response.status_code} {response.json()['code']}"
        )
        assert response.status_code == 503
        _assert_clean_503(response, {"outcome_unknown"}, commit_proxy.port)
        assert "Idempotency-Key" in response.json()["detail"]
        # It was in fact stored: exactly why the answer must not say "nothing was changed".
        stored = fault_db.scalar("SELECT count(*) FROM workspace WHERE name = %s", name)
        assert stored == 1
        # The broken connection is gone from the pool: the next request is served.
        assert actor.get("/v1/me").status_code == 200
    finally:
        stop_server(api)


def test_a_read_cut_during_commit_is_database_unavailable(
    fault_db: Database, commit_proxy: TcpProxy, private_redis: PrivateRedis, tmp_path: object
) -> None:
    """A safe method changed nothing: the plain, retryable 503."""
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    api = start_api(via_proxy(fault_db, commit_proxy), private_redis, tmp_path / "api.log")
    try:
        actor = create_actor(api, fault_db, "commitread")
        commit_proxy.cut_after(b"COMMIT")
        response = actor.get("/v1/me")
        assert response.status_code == 503
        _assert_clean_503(response, {"database_unavailable"}, commit_proxy.port)
    finally:
        stop_server(api)


def test_pool_exhausted_is_503_database_busy(
    private_postgres: PrivatePostgres, fault_db: Database, api_factory: ApiFactory
) -> None:
    """Every pooled connection held (here: blocked on a lock) past the pool timeout: 503, fast."""
    api = api_factory(overrides={"DATABASE_POOL_SIZE": "1", "DATABASE_POOL_TIMEOUT_SECONDS": "0.5"})
    actor = create_actor(api, fault_db, "busy")
    results: list[int] = []
    with fault_db.connect() as admin:
        admin.execute("BEGIN")
        admin.execute("LOCK TABLE user_account IN ACCESS EXCLUSIVE MODE")
        blocked = [
            threading.Thread(target=lambda: results.append(actor.get("/v1/me").status_code))
            for _ in range(2)  # pool_size 1 + max_overflow 1
        ]
        for thread in blocked:
            thread.start()
        time.sleep(0.5)
        started = time.monotonic()
        refused = actor.get("/v1/me")
        elapsed = time.monotonic() - started
        admin.execute("ROLLBACK")
    for thread in blocked:
        thread.join()
    print(  # noqa: T201 - the figures, shown with -s
        f"\npool exhausted: {refused.status_code} in {elapsed:.2f} s; blocked: {results}"
    )
    assert refused.status_code == 503
    _assert_clean_503(refused, {"database_busy"}, private_postgres.port)
    assert elapsed < 3.0
    assert results == [200, 200]
