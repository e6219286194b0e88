"""C11 monitoring: the running server exports the counters the alerts need, to its scraper only,
with bounded labels and nothing personal in them.

The server runs two uvicorn workers (prometheus-client multiprocess mode), so a counter that
moved on either worker must show in one scrape. Traffic is real: failed logins, a 429, a CSRF
refusal, a chat turn through the model stub, and fifty different ids on one route.
"""

from __future__ import annotations

import re
import secrets
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.factories.bots import create_bot
from tests.factories.conversations import send_ok, start_conversation
from tests.factories.users import create_actor, unique_email
from tests.factories.workspaces import create_workspace
from tests.servers import ServerFactory
from tests.support import (
    ROOT,
    Anonymous,
    Database,
    Server,
    Stub,
    base_env,
    free_port,
    stop_process,
)

pytestmark = pytest.mark.checklist(
    "C11",
    red="drop a counter the alerts need (auth failures, 5xx, rate limits, webhook failures, "
    "latency), label by raw path, or serve /metrics without METRICS_TOKEN",
)

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture(scope="module")
def token() -> str:
    return "mt-" + secrets.token_urlsafe(32)


@pytest.fixture(scope="module")
def metered(
    server_factory: ServerFactory,
    db: Database,
    stub: Stub,
    token: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Server]:
    log_path: Path = tmp_path_factory.mktemp("metrics") / "server.log"
    env = base_env(
        db,
        OPENAI_BASE_URL=stub.base_url,
        METRICS_TOKEN=token,
        RATE_LIMIT_LOGIN_ACCOUNT="3/minute",
    )
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # serve --workers 2 makes its own
    with server_factory(env, log_path=log_path, workers=2) as server:
        yield server


def scrape(server: Server, token: str) -> tuple[str, Samples]:
    response = httpx.get(
        server.url + "/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            labels = tuple(sorted((k, v) for k, v in sample.labels.items() if k != "pid"))
            key = (sample.name, labels)
            samples[key] = samples.get(key, 0.0) + sample.value
    return response.text, samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_counters_move_with_real_traffic(
    metered: Server, db: Database, stub: Stub, token: str
) -> None:
    _, before = scrape(metered, token)
    anon = Anonymous(metered)
    victim = unique_email("metrics")
    statuses = [
        anon.post(
            "/v1/auth/login", json={"email": victim, "password": "pw-wrong-" + str(i)}
        ).status_code
        for i in range(5)
    ]
    assert statuses[:3] == [401, 401, 401]
    assert 429 in statuses[3:]

    alice = create_actor(metered, db, "metrics")
    csrf = alice.post(
        "/v1/workspaces", json={"name": "x"}, headers={"Origin": "https://evil.example"}
    )
    assert csrf.status_code == 403

    stub.reset()
    workspace = create_workspace(alice)
    bot = create_bot(alice, workspace)
    conversation = start_conversation(alice, bot["id"])
    send_ok(alice, conversation["id"], "hello from the metrics test")

    time.sleep(0.2)
    text, after = scrape(metered, token)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("launchproof_auth_failures_total", reason="bad_credentials") >= 3
    assert moved("launchproof_rate_limit_rejections_total", budget="login.account") >= 1
    assert moved("launchproof_csrf_rejections_total") >= 1
    assert moved("launchproof_model_request_duration_seconds_count", model=bot["model"]) >= 1
    tokens = sum(
        v - before.get(k, 0.0) for k, v in after.items() if k[0] == "launchproof_model_tokens_total"
    )
    assert tokens > 0
    login_route = {"route": "/v1/auth/login", "method": "POST"}
    assert (
        moved("launchproof_http_request_duration_seconds_count", **login_route, status="4xx") >= 5
    )
    assert victim not in text
    assert workspace not in text
    assert not UUID.search(text), "an id in a label"


def test_labels_stay_bounded_whatever_the_ids(metered: Server, db: Database, token: str) -> None:
    alice = create_actor(metered, db, "cardinality")
    assert alice.get(f"/v1/bots/{uuid.uuid4()}").status_code == 404
    assert (
        Anonymous(metered).get(f"/v1/nowhere/{uuid.uuid4()}?email=x@example.com").status_code == 404
    )
    time.sleep(0.2)
    _, before = scrape(metered, token)
    ids = [str(uuid.uuid4()) for _ in range(50)]
    for item in ids:
        assert alice.get(f"/v1/bots/{item}").status_code == 404
        Anonymous(metered).get(f"/v1/nowhere/{item}?email={unique_email()}")
        alice.request("BREW", f"/v1/bots/{item}")  # an invented method: one "OTHER" series
    time.sleep(0.2)
    text, after = scrape(metered, token)
    new_series = set(after) - set(before)
    assert len(new_series) <= 16, sorted(new_series)  # the OTHER method's buckets, nothing more
    assert all(item not in text for item in ids)
    assert "@example.com" not in text
    routes = {dict(labels).get("route") for _, labels in after} - {None}
    assert "<unmatched>" in routes
    assert all(route and not UUID.search(route) and "?" not in route for route in routes)
    assert (
        value(
            after,
            "launchproof_http_request_duration_seconds_count",
            route="/v1/bots/{bot_id}",
            method="GET",
            status="4xx",
        )
        - value(
            before,
            "launchproof_http_request_duration_seconds_count",
            route="/v1/bots/{bot_id}",
            method="GET",
            status="4xx",
        )
        >= 50
    )


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token-000000000000000000000000", "Basic Zm9vOmJhcg==", "Bearer"],
)
def test_metrics_refuse_without_the_token(metered: Server, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = httpx.get(metered.url + "/metrics", headers=headers, timeout=10)
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "launchproof_" not in response.text


def test_metrics_are_invisible_when_no_token_is_configured(server: Server) -> None:
    response = httpx.get(server.url + "/metrics", timeout=10)
    assert response.status_code == 404
    assert "launchproof_" not in response.text
    assert httpx.get(server.url + "/openapi.json", timeout=10).status_code in (200, 404)


def test_the_worker_exports_its_own_metrics_on_loopback(db: Database, tmp_path: Path) -> None:
    port = free_port()
    env = base_env(db)
    log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen(
        [sys.executable, "-m", "app", "worker", "--jobs", "purge_expired_credentials"]
        + ["--metrics-port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, (tmp_path / "worker.log").read_text()
                time.sleep(0.2)
        assert response.status_code == 200
        for name in (
            "launchproof_email_queue_depth",
            "launchproof_webhook_queue_lag_seconds",
            "launchproof_scanner_up",
        ):
            assert name in response.text
    finally:
        stop_process(worker)
        log.close()
