"""Outgoing webhooks over real HTTP (C12 and the webhook red flag): a receiver on loopback gets
deliveries it verifies with the official ``standardwebhooks`` library; retries back off and
honour Retry-After; redirects are not followed; 410 disables; DNS that turns to 127.0.0.1 after
registration is refused at delivery time; events never cross workspaces."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from tests.dns_server import LocalDNSServer
from tests.factories.users import create_actor
from tests.factories.workspaces import create_workspace
from tests.support import Actor, Database, Server
from tests.webhooks.conftest import Worker, register, start_worker, wait_until, workspace_of
from tests.webhooks.outbound_helpers import deliveries, endpoint, new_conversation, verify
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.checklist("C12", red="deliver to an internal address or follow a redirect")


class TestRegistration:
    @pytest.mark.checklist("C4", red="store the signing secret unencrypted or show it twice")
    def test_secret_is_shown_once_and_encrypted_at_rest(
        self, admin: Actor, db: Database, receiver: Receiver
    ) -> None:
        created = register(admin, receiver.url(host="hooks.test"))
        secret = created["secret"]
        assert secret.startswith("whsec_")
        assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
        assert "secret" not in endpoint(admin, created["id"])
        listed = admin.get(f"/v1/workspaces/{workspace_of(admin)}/webhook-endpoints")
        assert "whsec_" not in listed.text
        # No secret material of any kind (plaintext, ciphertext, a renamed field) in a read,
        # a list or an update: every answer after creation names the same keys, none secret.
        patched = admin.patch(f"/v1/webhook-endpoints/{created['id']}", json={"description": "x"})
        assert patched.status_code == 200, patched.text
        for answer in (endpoint(admin, created["id"]), listed.json()["items"][0], patched.json()):
            secretish = {key for key in answer if "secret" in key}
            assert secretish <= {"previous_secret_expires_at"}, sorted(answer)  # a time only
            assert "gAAAAA" not in json.dumps(answer)  # no Fernet token under any name
        stored = bytes(
            db.scalar("SELECT secret_encrypted FROM webhook_endpoint WHERE id = %s", created["id"])
        )
        raw = base64.b64decode(secret.removeprefix("whsec_"))
        assert secret.encode() not in stored
        assert raw not in stored
        assert stored.startswith(b"gAAAAA")  # a Fernet token

    @pytest.mark.parametrize(
        "url",
        [
            "http://169.254.169.254/latest/meta-data/",
            "http://[::1]:8080/hook",
            "http://2130706433/hook",
            "http://0x7f000001/hook",
            "http://0177.0.0.1/hook",
            "http://[::ffff:127.0.0.2]/hook",
            "http://10.0.0.1/hook",
            "http://100.64.0.1/hook",
            "http://metadata.test/hook",
            "http://private.test/hook",
            "http://cgnat.test/hook",
            "http://loop6.test/hook",
            "http://nowhere.test/hook",
            "http://user:pw@hooks.test/hook",
            "ftp://hooks.test/hook",
            "file:///etc/passwd",
        ],
    )
    def test_internal_urls_are_refused_at_registration(
        self, admin: Actor, db: Database, dns: LocalDNSServer, url: str
    ) -> None:
        dns.set("metadata.test", "A", ["169.254.169.254"])
        dns.set("private.test", "A", ["192.168.1.20"])
        dns.set("cgnat.test", "A", ["100.64.3.4"])
        dns.set("loop6.test", "AAAA", ["::1"])
        before = db.scalar("SELECT count(*) FROM webhook_endpoint")
        response = admin.post(
            f"/v1/workspaces/{workspace_of(admin)}/webhook-endpoints",
            json={"url": url, "event_types": ["conversation.created"]},
        )
        assert response.status_code == 422, response.text
        assert db.scalar("SELECT count(*) FROM webhook_endpoint") == before

    @pytest.mark.parametrize(
        "url",
        [
            "http://169.254.169.254/latest/meta-data/",
            "http://private.test/hook",
            "ftp://hooks.test/x",
        ],
    )
    def test_internal_urls_are_refused_on_update_too(
        self, admin: Actor, db: Database, dns: LocalDNSServer, receiver: Receiver, url: str
    ) -> None:
        dns.set("private.test", "A", ["192.168.1.20"])
        created = register(admin, receiver.url(host="hooks.test"))
        stored = db.scalar("SELECT url FROM webhook_endpoint WHERE id = %s", created["id"])
        response = admin.patch(f"/v1/webhook-endpoints/{created['id']}", json={"url": url})
        assert response.status_code == 422, response.text
        assert db.scalar("SELECT url FROM webhook_endpoint WHERE id = %s", created["id"]) == stored

    def test_test_event_type_is_not_subscribable(self, admin: Actor, receiver: Receiver) -> None:
        response = admin.post(
            f"/v1/workspaces/{workspace_of(admin)}/webhook-endpoints",
            json={"url": receiver.url(), "event_types": ["webhook.test"]},
        )
        assert response.status_code == 422


class TestDelivery:
    def test_receiver_gets_verifiable_minimal_deliveries(
        self, admin: Actor, receiver: Receiver, worker: Worker
    ) -> None:
        minimal = register(admin, receiver.url("/minimal", host="hooks.test"))
        content = register(admin, receiver.url("/content"), include_content=True)
        conversation_id = new_conversation(admin)
        [plain] = receiver.wait_for("/minimal", 1)
        [full] = receiver.wait_for("/content", 1)
        event = verify(minimal["secret"], plain)
        assert event["type"] == "conversation.created"
        assert event["data"]["conversation_id"] == conversation_id
        assert "title" not in event["data"]
        assert b"Private title" not in plain.body
        assert verify(content["secret"], full)["data"]["title"] == "Private title"
        with pytest.raises(Exception):  # noqa: B017, PT011 - any verification failure
            verify(content["secret"], plain)  # one endpoint's secret never signs another's
        assert plain.headers["webhook-id"].startswith("msg_")
        wait_until(lambda: deliveries(admin, minimal["id"])[0]["status"] == "succeeded")
        [logged] = deliveries(admin, minimal["id"])
        assert logged["webhook_id"] == plain.headers["webhook-id"]
        assert [a["status_code"] for a in logged["attempt_log"]] == [204]
        assert minimal["secret"] not in worker.log_text()

    @pytest.mark.usefixtures("worker")
    def test_retries_back_off_and_honour_retry_after(
        self, admin: Actor, receiver: Receiver
    ) -> None:
        created = register(admin, receiver.url("/flaky"))
        receiver.script(
            "/flaky",
            [(500, {}, b"boom"), (503, {"Retry-After": "2"}, b"busy"), (200, {}, b"ok")],
        )
        queued = admin.post(f"/v1/webhook-endpoints/{created['id']}/test")
        assert queued.status_code == 202, queued.text
        first, second, third = receiver.wait_for("/flaky", 3)
        assert {r.webhook_id for r in (first, second, third)} == {queued.json()["webhook_id"]}
        assert third.at - second.at >= 1.9  # Retry-After: 2 honoured
        for captured in (first, second, third):
            verify(created["secret"], captured)  # re-signed on every attempt
        wait_until(lambda: deliveries(admin, created["id"])[0]["status"] == "succeeded")
        [logged] = deliveries(admin, created["id"])
        assert [a["status_code"] for a in logged["attempt_log"]] == [500, 503, 200]
        assert logged["attempt_log"][0]["response_snippet"] == "boom"

    @pytest.mark.usefixtures("worker")
    def test_redirect_is_not_followed(self, admin: Actor, receiver: Receiver) -> None:
        created = register(admin, receiver.url("/moved"))
        target = receiver.url("/internal-admin")
        receiver.script("/moved", [(302, {"Location": target}, b"")] * 10)
        admin.post(f"/v1/webhook-endpoints/{created['id']}/test")
        receiver.wait_for("/moved", 2)
        assert receiver.received("/internal-admin") == []
        attempts = deliveries(admin, created["id"])[0]["attempt_log"]
        assert attempts[0]["status_code"] == 302
        assert attempts[0]["outcome"].startswith("redirect")

    @pytest.mark.usefixtures("worker")
    def test_410_disables_the_endpoint(
        self, admin: Actor, db: Database, receiver: Receiver
    ) -> None:
        created = register(admin, receiver.url("/gone"))
        receiver.script("/gone", [(410, {}, b"")])
        admin.post(f"/v1/webhook-endpoints/{created['id']}/test")
        wait_until(lambda: not endpoint(admin, created["id"])["enabled"])
        assert endpoint(admin, created["id"])["disabled_reason"] == "gone"
        assert deliveries(admin, created["id"])[0]["status"] == "held"  # kept, not failed
        assert (
            db.scalar(
                "SELECT count(*) FROM audit_event WHERE action = 'webhook_endpoint.disabled' "
                "AND target_id = %s",
                created["id"],
            )
            == 1
        )
        # The owners hear about it (platform mail goes through the outbox).
        mails = db.scalar(
            "SELECT count(*) FROM email_outbox WHERE kind = 'webhook_endpoint_disabled' "
            "AND to_address = %s",
            admin.email,
        )
        assert mails == 1
        [body] = db.rows(
            "SELECT body_text FROM email_outbox WHERE kind = 'webhook_endpoint_disabled' "
            "AND to_address = %s",
            admin.email,
        )
        assert created["id"] in body[0]
        assert "/gone" not in body[0]  # the host only: a URL path may carry a token
        assert created["secret"].removeprefix("whsec_") not in body[0]
        # A disabled endpoint still records its events (held), and sends nothing.
        new_conversation(admin)
        statuses = [d["status"] for d in deliveries(admin, created["id"])]
        assert statuses == ["held", "held"]
        assert len(receiver.received("/gone")) == 1

    def test_failure_streak_disables_the_endpoint(
        self, admin: Actor, wh_server: Server, receiver: Receiver, tmp_path: Path
    ) -> None:
        created = register(admin, receiver.url("/down"))
        receiver.script("/down", [(500, {}, b"")] * 20)
        for _ in range(3):
            admin.post(f"/v1/webhook-endpoints/{created['id']}/test")
        streaky = start_worker(
            wh_server.env,
            tmp_path / "worker.log",
            WEBHOOK_DISABLE_AFTER_FAILURES="3",
            WEBHOOK_DISABLE_AFTER_SECONDS="0",  # the streak's length alone decides here
        )
        try:
            wait_until(lambda: not endpoint(admin, created["id"])["enabled"])
        finally:
            streaky.stop()
        assert endpoint(admin, created["id"])["disabled_reason"] == "failing"
        assert {d["status"] for d in deliveries(admin, created["id"])} == {"held"}

    def test_a_short_outage_never_disables_the_endpoint(
        self, admin: Actor, wh_server: Server, receiver: Receiver, tmp_path: Path
    ) -> None:
        """Many failures in a few seconds are not "failing for days": the endpoint stays on."""
        created = register(admin, receiver.url("/blip"))
        receiver.script("/blip", [(500, {}, b"")] * 12)
        for _ in range(3):
            admin.post(f"/v1/webhook-endpoints/{created['id']}/test")
        streaky = start_worker(
            wh_server.env, tmp_path / "worker.log", WEBHOOK_DISABLE_AFTER_FAILURES="3"
        )
        try:
            wait_until(lambda: endpoint(admin, created["id"])["consecutive_failures"] >= 6)
        finally:
            streaky.stop()
        state = endpoint(admin, created["id"])
        assert state["enabled"] is True
        assert state["failing_since"] is not None

    @pytest.mark.usefixtures("worker")
    def test_rotation_signs_with_both_secrets_during_the_overlap(
        self, admin: Actor, receiver: Receiver
    ) -> None:
        created = register(admin, receiver.url("/rotate"))
        rotated = admin.post(f"/v1/webhook-endpoints/{created['id']}/rotate-secret")
        assert rotated.status_code == 200, rotated.text
        new_secret = rotated.json()["secret"]
        assert new_secret != created["secret"]
        admin.post(f"/v1/webhook-endpoints/{created['id']}/test")
        [captured] = receiver.wait_for("/rotate", 1)
        assert len(captured.headers["webhook-signature"].split(" ")) == 2
        verify(created["secret"], captured)  # receivers still on the old secret keep working
        verify(new_secret, captured)


def test_dns_answer_turning_to_loopback_is_refused_at_delivery_time(
    admin: Actor,
    db: Database,
    dns: LocalDNSServer,
    wh_server: Server,
    receiver: Receiver,
    tmp_path: Path,
) -> None:
    """Registration saw a public address; by delivery time DNS says 127.0.0.1."""
    dns.set("rebind.test", "A", ["93.184.216.34"])
    created = register(admin, receiver.url("/rebind", host="rebind.test"))
    dns.set("rebind.test", "A", ["127.0.0.1"])
    admin.post(f"/v1/webhook-endpoints/{created['id']}/test")
    # A production-like worker: no loopback allowance (the API server's is irrelevant here).
    env = {k: v for k, v in wh_server.env.items() if k != "OUTBOUND_DEV_ALLOWED_ADDRESSES"}
    strict = start_worker(env, tmp_path / "worker.log")
    try:
        wait_until(lambda: deliveries(admin, created["id"])[0]["attempt_log"] != [])
    finally:
        strict.stop()
    attempt = deliveries(admin, created["id"])[0]["attempt_log"][0]
    assert attempt["outcome"] == "refused:blocked_address"
    assert attempt["status_code"] is None
    assert receiver.received("/rebind") == []


@pytest.mark.checklist("C2", red="fan an event out to another workspace's endpoint")
@pytest.mark.usefixtures("worker")
def test_cross_workspace_fan_out_never_happens(
    wh_server: Server, db: Database, receiver: Receiver
) -> None:
    alice = create_actor(wh_server, db, "wh-alice")
    mallory = create_actor(wh_server, db, "wh-mallory")
    alice_ws = create_workspace(alice, "Alice")
    create_workspace(mallory, "Mallory")
    all_events = ["conversation.created", "message.created", "member.added"]
    register(alice, receiver.url("/alice"), all_events)
    register(mallory, receiver.url("/mallory"), all_events, include_content=True)
    # Alice also owns a second workspace with its own endpoint: her session may reach both
    # workspaces, so row-level security admits both and only the fan-out's workspace filter
    # keeps the first one's events away from the second one's endpoint.
    side_ws = create_workspace(alice, "Alice side")
    side = alice.post(
        f"/v1/workspaces/{side_ws}/webhook-endpoints",
        json={"url": receiver.url("/alice-side"), "event_types": all_events},
    )
    assert side.status_code == 201, side.text
    conversations = {new_conversation(alice, alice_ws) for _ in range(3)}
    arrived = receiver.wait_for("/alice", 3)
    assert {json.loads(r.body)["data"]["conversation_id"] for r in arrived} == conversations
    mallory_conversation = new_conversation(mallory)
    [own] = receiver.wait_for("/mallory", 1)
    assert json.loads(own.body)["data"]["conversation_id"] == mallory_conversation
    assert len(receiver.received("/alice")) == 3
    assert receiver.received("/alice-side") == []
    assert (
        db.scalar("SELECT count(*) FROM webhook_delivery WHERE endpoint_id = %s", side.json()["id"])
        == 0
    )
    leaked = db.scalar(
        "SELECT count(*) FROM webhook_delivery d JOIN webhook_endpoint e ON e.id = d.endpoint_id "
        "WHERE d.workspace_id <> e.workspace_id"
    )
    assert leaked == 0


def test_worker_killed_mid_batch_loses_and_duplicates_nothing(
    admin: Actor, db: Database, wh_server: Server, receiver: Receiver, tmp_path: Path
) -> None:
    created = register(admin, receiver.url("/batch"))
    ids = {
        admin.post(f"/v1/webhook-endpoints/{created['id']}/test").json()["webhook_id"]
        for _ in range(8)
    }
    receiver.set_delay(0.5)
    first = start_worker(wh_server.env, tmp_path / "first.log", WEBHOOK_CONCURRENCY="2")
    receiver.wait_for("/batch", 3)
    first.kill()  # SIGKILL mid-batch: leased rows stay leased, in-flight answers are lost
    receiver.set_delay(0.0)
    second = start_worker(wh_server.env, tmp_path / "second.log", WEBHOOK_CONCURRENCY="2")
    try:
        wait_until(
            lambda: (
                all(d["status"] == "succeeded" for d in deliveries(admin, created["id"]))
                and len(deliveries(admin, created["id"])) == 8
            ),
            timeout=60,
        )
    finally:
        second.stop()
    got = receiver.received("/batch")
    assert {r.webhook_id for r in got} == ids  # nothing lost
    # At-least-once: only requests in flight at the kill (at most the concurrency) came twice,
    # with the same webhook-id, so the receiver deduplicates them.
    assert len(got) - len(ids) <= 2
    for logged in deliveries(admin, created["id"]):
        successes = [a for a in logged["attempt_log"] if a["outcome"].startswith("success")]
        assert len(successes) == 1
    assert (
        db.scalar(
            "SELECT count(*) FROM webhook_queue q JOIN webhook_delivery d "
            "ON d.id = q.delivery_id WHERE d.endpoint_id = %s",
            created["id"],
        )
        == 0
    )
