"""Fault injection for outgoing webhooks, against real processes: the API (``start_server``), the
worker (``python -m app worker`` subprocesses, SIGKILLed and restarted) and a hostile receiver on
loopback (tests/webhooks/receiver.py, its own thread).

Figures asserted in every scenario (docs/reliability.md): events emitted vs delivered (equal,
duplicates only with the same ``webhook-id``), an attempt recorded for every crash-prone answer,
no delivery left pending or queued, and no endpoint signing secret in any worker's output.
Time is compressed by configuration: retries back off from 0.2 s to 1 s, a 60-second outage
becomes 8 seconds and "failing for 5 days" becomes 4 seconds.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.factories.bots import create_bot
from tests.factories.conversations import start_conversation
from tests.factories.users import create_actor
from tests.factories.workspaces import create_workspace
from tests.servers import ServerFactory
from tests.support import Actor, Database, Server, base_env
from tests.webhooks.conftest import Worker, register, start_worker, wait_until, workspace_of
from tests.webhooks.receiver import Answer, Receiver

FAST = {
    "OUTBOUND_DEV_ALLOWED_ADDRESSES": "127.0.0.1",
    "WEBHOOK_RETRY_BASE_SECONDS": "0.2",
    "WEBHOOK_RETRY_MAX_SECONDS": "1",
    "WEBHOOK_MAX_ATTEMPTS": "50",
    "WEBHOOK_LEASE_SECONDS": "5",
    # A receiver deadline a loaded 2-core machine still meets for a plain 204 (1 s was not).
    "WEBHOOK_TIMEOUT_SECONDS": "2",
    "WORKER_POLL_SECONDS": "0.1",
}


@pytest.fixture(scope="module")
def api(
    server_factory: ServerFactory, db: Database, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    with server_factory(
        base_env(db, **FAST), log_path=tmp_path_factory.mktemp("wh-faults") / "api.log"
    ) as server:
        yield server


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as recv:
        yield recv


@pytest.fixture
def owner(api: Server, db: Database) -> Actor:
    actor = create_actor(api, db, "wh-faults")
    create_workspace(actor, "Faults")
    return actor


class Workers:
    """Every worker a test starts, so their output can be checked for secrets at the end."""

    def __init__(self, env: dict[str, str], directory: Path) -> None:
        self.env, self.directory, self.started = env, directory, list[Worker]()

    def start(self, *, module: str = "app", **overrides: str) -> Worker:
        log = self.directory / f"worker-{len(self.started)}.log"
        worker = start_worker(self.env, log, module=module, **overrides)
        self.started.append(worker)
        return worker

    def output(self) -> str:
        return "".join(worker.log_text() for worker in self.started)

    def stop_all(self) -> None:
        for worker in self.started:
            worker.stop()


@pytest.fixture
def workers(api: Server, tmp_path: Path) -> Iterator[Workers]:
    pool = Workers(api.env, tmp_path)
    yield pool
    pool.stop_all()


def rows(db: Database, endpoint_id: str) -> list[tuple[Any, ...]]:
    return db.rows(
        "SELECT id, status, attempts FROM webhook_delivery WHERE endpoint_id = %s", endpoint_id
    )


def attempts(db: Database, endpoint_id: str) -> list[tuple[Any, ...]]:
    return db.rows(
        "SELECT a.outcome, a.status_code FROM webhook_delivery_attempt a "
        "JOIN webhook_delivery d ON d.id = a.delivery_id WHERE d.endpoint_id = %s "
        "ORDER BY a.created_at",
        endpoint_id,
    )


def stuck(db: Database, endpoint_id: str) -> int:
    """Deliveries still pending or still in the queue (0 once everything has settled)."""
    return int(
        db.scalar(
            "SELECT count(*) FROM webhook_delivery d LEFT JOIN webhook_queue q "
            "ON q.delivery_id = d.id WHERE d.endpoint_id = %s "
            "AND (d.status = 'pending' OR q.delivery_id IS NOT NULL)",
            endpoint_id,
        )
    )


def all_settled(db: Database, endpoint_id: str, count: int) -> bool:
    found = rows(db, endpoint_id)
    return len(found) == count and all(status == "succeeded" for _, status, _ in found)


def server_errors(api: Server) -> list[str]:
    """Requests the API answered with a 5xx other than 503 (its JSON access log)."""
    errors = []
    for line in api.log_text().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        status = entry.get("status") if isinstance(entry, dict) else None
        if isinstance(status, int) and status >= 500 and status != 503:
            errors.append(f"{entry.get('method')} {entry.get('route')} {status}")
    return errors


def assert_no_secret(output: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in output
        assert secret.removeprefix("whsec_") not in output


# Receiver answers that crashed deliveries, or could: each is answered once, then 204.
HOSTILE: dict[str, Answer] = {
    "/superscript-two": (503, {"Retry-After": "\u00b2"}, b"busy"),
    "/negative": (503, {"Retry-After": "-30"}, b""),
    "/huge": (503, {"Retry-After": "9" * 40}, b""),
    "/far-date": (429, {"Retry-After": "Fri, 31 Dec 9999 23:59:59 GMT"}, b""),
    "/bad-date": (503, {"Retry-After": "Mon, 32 Foo 99999 25:61:61 GMT"}, b""),
    "/garbage": (503, {"Retry-After": "soon, \u00e9ventuellement"}, b""),
    "/redirect": (307, {"Location": "http://127.0.0.1:9/internal"}, b""),
    "/status-999": (999, {}, b"odd status"),
    "/binary": (500, {"Content-Type": "application/octet-stream"}, bytes(range(256)) * 8192),
    "/huge-header": (503, {"X-Filler": "a" * 60_000}, b""),
}


def test_hostile_answers_are_recorded_and_every_event_arrives(
    api: Server, owner: Actor, db: Database, receiver: Receiver, workers: Workers
) -> None:
    endpoints = {path: register(owner, receiver.url(path)) for path in [*HOSTILE, "/slow"]}
    for path, answer in HOSTILE.items():
        receiver.script(path, [answer])
    receiver.set_delay(4.0, "/slow")  # longer than WEBHOOK_TIMEOUT_SECONDS: a timeout
    emitted = {
        path: owner.post(f"/v1/webhook-endpoints/{created['id']}/test").json()["webhook_id"]
        for path, created in endpoints.items()
    }
    workers.start()
    for path in HOSTILE:
        wait_until(lambda path=path: all_settled(db, endpoints[path]["id"], 1), timeout=30)
    wait_until(lambda: len(attempts(db, endpoints["/slow"]["id"])) >= 2, timeout=30)
    receiver.set_delay(0.0, "/slow")
    wait_until(lambda: all_settled(db, endpoints["/slow"]["id"], 1), timeout=30)

    for path, created in endpoints.items():
        got = receiver.received(path)
        assert {r.webhook_id for r in got} == {emitted[path]}  # delivered, only under its id
        logged = attempts(db, created["id"])
        outcomes = [outcome for outcome, _ in logged]
        assert outcomes[-1].startswith("success"), (path, outcomes)
        assert "error:internal" not in outcomes, path  # parsing is total: nothing crashed
        if path in HOSTILE:
            assert len(logged) == 2, (path, logged)  # the hostile answer is one recorded attempt
        assert stuck(db, created["id"]) == 0
    assert attempts(db, endpoints["/superscript-two"]["id"])[0] == ("http_error:http_503", 503)
    assert attempts(db, endpoints["/redirect"]["id"])[0] == ("redirect:http_307", 307)
    assert attempts(db, endpoints["/slow"]["id"])[0][0] == "failed:timeout"
    assert receiver.received("/internal") == []
    assert_no_secret(workers.output(), *(created["secret"] for created in endpoints.values()))
    assert server_errors(api) == []


def endpoint_state(owner: Actor, endpoint_id: str) -> dict[str, Any]:
    response = owner.get(f"/v1/webhook-endpoints/{endpoint_id}")
    assert response.status_code == 200, response.text
    state: dict[str, Any] = response.json()
    return state


def failures(db: Database, endpoint_id: str) -> int:
    return sum(1 for outcome, _ in attempts(db, endpoint_id) if outcome == "http_error:http_500")


def emit(owner: Actor, bot_id: str, count: int, per_second: float) -> list[str]:
    """``count`` real events (conversation.created), paced; their conversation ids."""
    ids = []
    for index in range(count):
        ids.append(str(start_conversation(owner, bot_id, title=f"event {index}")["id"]))
        time.sleep(1 / per_second)
    return ids


def delivered_conversations(receiver: Receiver, path: str) -> Counter[str]:
    return Counter(json.loads(r.body)["data"]["conversation_id"] for r in receiver.received(path))


def assert_one_webhook_id_per_event(receiver: Receiver, path: str) -> None:
    """Every request for one event (retries, redeliveries) carried one and the same webhook-id,
    and no two events shared one: a receiver deduplicating on it sees each event once."""
    ids: dict[str, set[str]] = {}
    for request in receiver.received(path):
        conversation = json.loads(request.body)["data"]["conversation_id"]
        ids.setdefault(conversation, set()).add(request.webhook_id)
    assert all(len(webhook_ids) == 1 for webhook_ids in ids.values())
    assert len({next(iter(webhook_ids)) for webhook_ids in ids.values()}) == len(ids)


@pytest.mark.parametrize("disabled_during_outage", [False, True], ids=["stays-on", "disabled"])
def test_an_outage_loses_no_event(
    api: Server,
    owner: Actor,
    db: Database,
    receiver: Receiver,
    workers: Workers,
    disabled_during_outage: bool,
) -> None:
    """The observed loss: a receiver answering 500 while events keep coming. With the default
    policy the endpoint stays on and catches up; with "failing for days" compressed to 4 s it is
    disabled, keeps every event (held), its owners get an e-mail, and enabling it sends them all.
    """
    created = register(owner, receiver.url("/outage"))
    endpoint_id = created["id"]
    bot = create_bot(owner, workspace_of(owner))
    overrides = (
        {"WEBHOOK_DISABLE_AFTER_SECONDS": "4", "WEBHOOK_DISABLE_AFTER_FAILURES": "5"}
        if disabled_during_outage
        else {"WEBHOOK_DISABLE_AFTER_FAILURES": "5"}  # the count alone never disables
    )
    worker = workers.start(**overrides)
    wait_until(lambda: "worker started" in worker.log_text(), timeout=30)
    # Down (500 with an odd Retry-After) until the scenario has played out; at most 60 s.
    receiver.outage("/outage", 60.0, (500, {"Retry-After": "\u00b2"}, b"down"))
    started = time.monotonic()
    emitted = emit(owner, str(bot["id"]), 24, per_second=4)
    if disabled_during_outage:
        wait_until(lambda: not endpoint_state(owner, endpoint_id)["enabled"], timeout=40)
        emitted += emit(owner, str(bot["id"]), 4, per_second=4)  # recorded while disabled
    else:
        wait_until(lambda: failures(db, endpoint_id) >= 2 * len(emitted), timeout=40)
        time.sleep(max(0.0, 8.0 - (time.monotonic() - started)))
    assert receiver.down("/outage")
    receiver.end_outage("/outage")
    emitted += emit(owner, str(bot["id"]), 4, per_second=4)  # and some after it
    if disabled_during_outage:
        state = endpoint_state(owner, endpoint_id)
        assert state["enabled"] is False
        assert state["disabled_reason"] == "failing"
        statuses = Counter(status for _, status, _ in rows(db, endpoint_id))
        assert statuses == {"held": len(emitted)}  # every event kept, none failed or lost
        mails = db.scalar(
            "SELECT count(*) FROM email_outbox WHERE kind = 'webhook_endpoint_disabled' "
            "AND to_address = %s",
            owner.email,
        )
        assert mails == 1
        audited = db.scalar(
            "SELECT count(*) FROM audit_event WHERE action = 'webhook_endpoint.disabled' "
            "AND target_id = %s",
            endpoint_id,
        )
        assert audited == 1
        enabled = owner.patch(f"/v1/webhook-endpoints/{endpoint_id}", json={"enabled": True})
        assert enabled.status_code == 200, enabled.text
    else:
        assert endpoint_state(owner, endpoint_id)["enabled"] is True
    wait_until(lambda: all_settled(db, endpoint_id, len(emitted)), timeout=40)
    assert sorted(delivered_conversations(receiver, "/outage")) == sorted(set(emitted))
    assert_one_webhook_id_per_event(receiver, "/outage")
    assert stuck(db, endpoint_id) == 0
    outcomes = Counter(outcome for outcome, _ in attempts(db, endpoint_id))
    assert outcomes["success:http_204"] == len(emitted)
    assert outcomes["error:internal"] == 0
    assert_no_secret(workers.output(), created["secret"])
    assert server_errors(api) == []


def test_worker_killed_mid_batch_and_restarted_loses_nothing(
    api: Server, owner: Actor, db: Database, receiver: Receiver, workers: Workers
) -> None:
    created = register(owner, receiver.url("/killed"))
    emitted = {
        owner.post(f"/v1/webhook-endpoints/{created['id']}/test").json()["webhook_id"]
        for _ in range(20)
    }
    receiver.set_delay(0.4, "/killed")
    first = workers.start(WEBHOOK_CONCURRENCY="4")
    receiver.wait_for("/killed", 6)
    first.kill()  # SIGKILL: leases stay, answers in flight are lost
    receiver.set_delay(0.0, "/killed")
    workers.start(WEBHOOK_CONCURRENCY="4")
    wait_until(lambda: all_settled(db, created["id"], 20), timeout=40)
    got = receiver.received("/killed")
    assert {r.webhook_id for r in got} == emitted
    duplicates = len(got) - len(emitted)
    assert duplicates <= 4  # at most the requests in flight at the kill, same webhook-id
    assert stuck(db, created["id"]) == 0
    assert_no_secret(workers.output(), created["secret"])
    assert server_errors(api) == []


def test_an_unexpected_exception_is_recorded_backs_off_and_ends(
    api: Server, owner: Actor, db: Database, receiver: Receiver, workers: Workers
) -> None:
    """Every attempt raises (injected; the exception text holds the signing secret): each is
    recorded as ``error:internal`` with backoff until the attempts run out, nothing loops
    unrecorded, no secret is printed, and recover then delivers it."""
    created = register(owner, receiver.url("/crash"))
    queued = owner.post(f"/v1/webhook-endpoints/{created['id']}/test").json()
    crashing = workers.start(module="tests.webhooks.crashing_worker", WEBHOOK_MAX_ATTEMPTS="4")
    wait_until(lambda: rows(db, created["id"])[0][1] == "failed", timeout=30)
    crashing.stop()
    assert [outcome for outcome, _ in attempts(db, created["id"])] == ["error:internal"] * 4
    assert stuck(db, created["id"]) == 0
    output = workers.output()
    assert "webhook delivery crashed" in output
    assert "RuntimeError" in output
    assert "injected fault" not in output  # the exception text is never printed
    workers.start()
    recovered = owner.post(
        f"/v1/webhook-endpoints/{created['id']}/recover", json={"since": "2026-12-01T00:00:00Z"}
    )
    assert recovered.status_code == 202, recovered.text
    [arrived] = receiver.wait_for("/crash", 1)
    assert arrived.webhook_id == queued["webhook_id"]
    wait_until(lambda: all_settled(db, created["id"], 1), timeout=20)
    assert_no_secret(workers.output(), created["secret"])
    assert server_errors(api) == []
