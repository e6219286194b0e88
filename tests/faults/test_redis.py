"""Redis (the rate-limit store) stopped or frozen under load: fail-closed budgets answer 503 with
Retry-After within the store timeout, the fail-open read budget serves, nothing hangs, nothing is
a 500, the API stays ready, and everything recovers when Redis is back (no API restart).

A PRIVATE redis-server (tests/faults/harness.py) is stopped (SIGTERM) or frozen (SIGSTOP: the
port still accepts connections, nothing answers: the nastier case). Figures printed with ``-s``.
"""

from __future__ import annotations

import itertools
import re
import secrets
import time

import httpx
import pytest

from tests.factories.users import create_actor
from tests.faults.conftest import ApiFactory
from tests.faults.harness import Load, PrivateRedis, five_hundreds
from tests.support import Actor, Database

STORE_TIMEOUT = 0.5  # app/core/rate_limit.py STORE_TIMEOUT_SECONDS


def _mixed(actor: Actor) -> Load:
    """Reads (READ budget: fails open) and logins (login budgets: fail closed), alternately."""
    counter = itertools.count()
    url = actor.server.url
    origin = {"Origin": actor.server.origin}

    def request(client: httpx.Client) -> httpx.Response:
        if next(counter) % 2:
            return client.post(
                url + "/v1/auth/login",
                json={"email": actor.email, "password": "not-the-password-" + "x" * 8},
                headers=origin,
            )
        return client.get(url + "/v1/me", headers=actor.headers())

    return Load(request, max_requests=2000, max_seconds=60, pause=0.02)


def _dependency_up(api_url: str, token: str, name: str) -> float | None:
    text = httpx.get(
        api_url + "/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=10
    ).text
    match = re.search(
        r'^launchproof_dependency_up\{[^}]*dependency="' + name + r'"[^}]*\} (\S+)$',
        text,
        re.MULTILINE,
    )
    return float(match.group(1)) if match else None


@pytest.mark.parametrize("fault", ["stop", "freeze"])
def test_redis_lost_mid_load(
    fault: str, private_redis: PrivateRedis, fault_db: Database, api_factory: ApiFactory
) -> None:
    token = secrets.token_urlsafe(24)
    api = api_factory(overrides={"METRICS_TOKEN": token})
    actor = create_actor(api, fault_db, "redis")
    with _mixed(actor) as load:
        load.wait_for(lambda status: status == 401)  # a login refused on its merits
        load.mark("fault")
        if fault == "stop":
            private_redis.stop()
        else:
            private_redis.freeze()
        load.wait_for(lambda status: status == 503, timeout=10)
        # The load balancer keeps the API: readiness needs only the database.
        assert httpx.get(api.url + "/readyz", timeout=10).status_code == 200
        time.sleep(0.1 + 5.0)  # past the report's cache age
        report = httpx.get(api.url + "/readyz/dependencies", timeout=10)
        assert report.status_code == 200
        assert report.json()["status"] == "degraded"
        assert report.json()["dependencies"]["redis"] == "down"
        assert str(private_redis.port) not in report.text
        assert _dependency_up(api.url, token, "redis") == 0.0
        time.sleep(2)
        load.mark("restore")
        if fault == "stop":
            private_redis.start()
        else:
            private_redis.thaw()
        load.wait_for(lambda status: status == 401, timeout=15)
        load.mark("recovered")
        time.sleep(0.5)
    counts = load.counts
    outage = load.between("fault", "restore")
    outage_counts: dict[int, int] = {}
    for record in outage:
        outage_counts[record[2]] = outage_counts.get(record[2], 0) + 1
    recovery = load.marks["recovered"] - load.marks["restore"]
    print(  # noqa: T201 - the figures, shown with -s
        f"\n[redis {fault}] answers: {dict(counts)}; during outage: {outage_counts};"
        f" max latency {load.max_latency:.2f} s; recovered {recovery:.2f} s after restore"
    )
    assert five_hundreds(load.records) == []
    assert counts[0] == 0  # every request answered: nothing hung past the client timeout
    # Nothing waits on a dead or frozen store for more than its budget (+ the request's own work).
    assert load.max_latency < STORE_TIMEOUT + 2.0
    for _start, _duration, status, response in load.records:
        if status == 503:
            assert response is not None
            assert response.json()["code"] == "rate_limit_unavailable"
            assert int(response.headers["retry-after"]) >= 1
            assert str(private_redis.port) not in response.text
    # During the outage: logins refused (fail closed), reads served (fail open).
    assert outage_counts.get(503, 0) >= 3
    assert outage_counts.get(200, 0) >= 3
    assert recovery < 10
    # Recovered without restarting the API.
    assert actor.get("/v1/me").status_code == 200
    time.sleep(5.1)
    report = httpx.get(api.url + "/readyz/dependencies", timeout=10).json()
    assert report == {
        "status": "ok",
        "dependencies": {"database": "up", "redis": "up", "storage": "up"},
    }
    assert _dependency_up(api.url, token, "redis") == 1.0
