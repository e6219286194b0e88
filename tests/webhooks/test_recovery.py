"""Nothing is dropped: a disabled endpoint keeps its deliveries and its new events (held), enabling
it sends them; one delivery can be redelivered and everything since a time recovered, always with
the original ``webhook-id``. Over HTTP against the running server, the real worker and a receiver
on loopback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.dns_server import LocalDNSServer
from tests.factories.users import create_actor
from tests.factories.workspaces import create_workspace
from tests.servers import ServerFactory
from tests.support import Actor, Database, Server, base_env
from tests.webhooks.conftest import WEBHOOK_ENV, register, start_worker, wait_until
from tests.webhooks.outbound_helpers import deliveries, endpoint, new_conversation, verify
from tests.webhooks.receiver import Receiver


def recover(actor: Actor, endpoint_id: str, since: datetime) -> Any:
    return actor.post(
        f"/v1/webhook-endpoints/{endpoint_id}/recover", json={"since": since.isoformat()}
    )


def redeliver(actor: Actor, endpoint_id: str, delivery_id: str) -> Any:
    return actor.post(f"/v1/webhook-endpoints/{endpoint_id}/deliveries/{delivery_id}/redeliver")


def statuses(actor: Actor, endpoint_id: str) -> list[str]:
    return sorted(d["status"] for d in deliveries(actor, endpoint_id))


def disable(actor: Actor, endpoint_id: str) -> None:
    response = actor.patch(f"/v1/webhook-endpoints/{endpoint_id}", json={"enabled": False})
    assert response.status_code == 200, response.text


def enable(actor: Actor, endpoint_id: str) -> None:
    response = actor.patch(f"/v1/webhook-endpoints/{endpoint_id}", json={"enabled": True})
    assert response.status_code == 200, response.text


def test_a_disabled_endpoint_keeps_its_events_and_enabling_sends_them(
    admin: Actor, db: Database, receiver: Receiver, wh_server: Server, tmp_path: Path
) -> None:
    created = register(admin, receiver.url("/paused"))
    disable(admin, created["id"])
    conversations = {new_conversation(admin) for _ in range(3)}
    assert statuses(admin, created["id"]) == ["held"] * 3
    queued = db.scalar(
        "SELECT count(*) FROM webhook_queue q JOIN webhook_delivery d ON d.id = q.delivery_id "
        "WHERE d.endpoint_id = %s",
        created["id"],
    )
    assert queued == 0  # held rows are not attempted
    worker = start_worker(wh_server.env, tmp_path / "worker.log")
    try:
        enable(admin, created["id"])
        got = receiver.wait_for("/paused", 3)
        wait_until(lambda: statuses(admin, created["id"]) == ["succeeded"] * 3)
    finally:
        worker.stop()
    ids = {d["webhook_id"] for d in deliveries(admin, created["id"])}
    assert {r.webhook_id for r in got} == ids
    assert {verify(created["secret"], r)["data"]["conversation_id"] for r in got} == conversations
    assert (
        db.scalar(
            "SELECT details->>'resumed_deliveries' FROM audit_event "
            "WHERE action = 'webhook_endpoint.updated' AND target_id = %s "
            "ORDER BY occurred_at DESC LIMIT 1",
            created["id"],
        )
        == "3"
    )


@pytest.mark.usefixtures("worker")
def test_redelivery_sends_the_same_webhook_id_again(admin: Actor, receiver: Receiver) -> None:
    created = register(admin, receiver.url("/again"))
    queued = admin.post(f"/v1/webhook-endpoints/{created['id']}/test").json()
    [first] = receiver.wait_for("/again", 1)
    wait_until(lambda: statuses(admin, created["id"]) == ["succeeded"])
    response = redeliver(admin, created["id"], queued["delivery_id"])
    assert response.status_code == 202, response.text
    assert response.json() == queued
    _, second = receiver.wait_for("/again", 2)
    assert first.webhook_id == second.webhook_id == queued["webhook_id"]
    assert first.body == second.body
    verify(created["secret"], second)
    wait_until(lambda: statuses(admin, created["id"]) == ["succeeded"])
    [logged] = deliveries(admin, created["id"])
    assert [a["status_code"] for a in logged["attempt_log"]] == [204, 204]


def test_recover_requeues_failed_deliveries_since_a_time(
    admin: Actor, receiver: Receiver, wh_server: Server, tmp_path: Path
) -> None:
    """Deliveries that exhausted their attempts are failed, not gone: recover sends them."""
    created = register(admin, receiver.url("/exhausted"))
    receiver.script("/exhausted", [(500, {}, b"down")] * 6)
    started = datetime.now(UTC) - timedelta(seconds=5)
    for _ in range(3):
        admin.post(f"/v1/webhook-endpoints/{created['id']}/test")
    worker = start_worker(wh_server.env, tmp_path / "worker.log", WEBHOOK_MAX_ATTEMPTS="2")
    try:
        wait_until(lambda: statuses(admin, created["id"]) == ["failed"] * 3)
        response = recover(admin, created["id"], started)
        assert response.status_code == 202, response.text
        assert response.json() == {"requeued": 3}
        wait_until(lambda: statuses(admin, created["id"]) == ["succeeded"] * 3)
    finally:
        worker.stop()
    got = receiver.received("/exhausted")
    assert len(got) == 9  # 3 x 2 failed attempts, then 3 successes
    assert len({r.webhook_id for r in got}) == 3
    assert recover(admin, created["id"], started).json() == {"requeued": 0}  # nothing left


def test_replay_refusals_are_defined(admin: Actor, receiver: Receiver) -> None:
    created = register(admin, receiver.url("/refusals"))
    queued = admin.post(f"/v1/webhook-endpoints/{created['id']}/test").json()
    too_old = recover(admin, created["id"], datetime.now(UTC) - timedelta(days=31))
    assert too_old.status_code == 422
    assert too_old.json()["code"] == "since_out_of_retention"
    other = register(admin, receiver.url("/other"))
    # A delivery of another endpoint (even in the same workspace) is not found through this one.
    assert redeliver(admin, other["id"], queued["delivery_id"]).status_code == 404
    disable(admin, created["id"])
    for response in (
        redeliver(admin, created["id"], queued["delivery_id"]),
        recover(admin, created["id"], datetime.now(UTC) - timedelta(hours=1)),
    ):
        assert response.status_code == 409
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == "endpoint_disabled"
    assert endpoint(admin, created["id"])["enabled"] is False


@pytest.mark.checklist("C6", red="remove the replay budget from redeliver and recover")
def test_replays_are_rate_limited_per_user(
    server_factory: ServerFactory,
    db: Database,
    dns: LocalDNSServer,
    receiver: Receiver,
    tmp_path: Path,
) -> None:
    env = base_env(
        db, **WEBHOOK_ENV, OUTBOUND_DNS_SERVER=dns.nameserver, RATE_LIMIT_WEBHOOK_REPLAY="2/minute"
    )
    with server_factory(env, log_path=tmp_path / "server.log") as tight:
        owner = create_actor(tight, db, "wh-replayer")
        create_workspace(owner, "Replays")
        created = register(owner, receiver.url("/limited"))
        since = datetime.now(UTC) - timedelta(hours=1)
        answers = [recover(owner, created["id"], since).status_code for _ in range(3)]
    assert answers == [202, 202, 429]
