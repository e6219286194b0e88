"""Attacks on ``POST /v1/webhooks/inbound/{source}`` (C6, C7): forged, tampered, stale, replayed,
malformed and oversized calls, over HTTP against the running server and the real worker."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from tests.problems import assert_problem
from tests.servers import ServerFactory
from tests.support import Database, Server, base_env
from tests.webhooks.conftest import (
    BILLING_SECRET,
    CREATOR_OLD_SECRET,
    CREATOR_SECRET,
    WEBHOOK_ENV,
    wait_until,
)

pytestmark = pytest.mark.checklist(
    "C6",
    "C7",
    red="skip the signature check over the raw body, accept a stale timestamp or a replay, parse "
    "the body before the size and depth caps, or remove the per-source and IP rate limit",
)

PATH = "/v1/webhooks/inbound/billing"


def signed(
    body: bytes,
    *,
    secret: str = BILLING_SECRET,
    msg_id: str | None = None,
    at: datetime | None = None,
) -> dict[str, str]:
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    at = at or datetime.now(UTC)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, at, body.decode()),
        "Content-Type": "application/json",
    }


def event_body(**fields: object) -> bytes:
    return json.dumps({"type": "invoice.paid", "data": {"invoice": "in_1", **fields}}).encode()


def post(server: Server, body: bytes, headers: dict[str, str], path: str = PATH) -> httpx.Response:
    return httpx.post(server.url + path, content=body, headers=headers, timeout=30)


def stored(db: Database, msg_id: str) -> list[tuple[object, ...]]:
    return db.rows(
        "SELECT source, processed_at, process_attempts FROM inbound_webhook_event "
        "WHERE webhook_id = %s",
        msg_id,
    )


@pytest.mark.usefixtures("worker")
def test_valid_event_is_accepted_stored_and_processed_once(wh_server: Server, db: Database) -> None:
    body = event_body()
    headers = signed(body)
    response = post(wh_server, body, headers)
    assert response.status_code == 202, response.text
    assert response.json() == {"status": "accepted"}
    msg_id = headers["webhook-id"]
    wait_until(lambda: stored(db, msg_id)[0][1] is not None)
    assert [(row[0], row[2]) for row in stored(db, msg_id)] == [("billing", 1)]


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda b: b[:-3] + bytes([b[-3] ^ 1]) + b[-2:], id="one byte"),
        pytest.param(lambda b: b + b" ", id="trailing whitespace"),
        pytest.param(lambda b: b.replace(b'{"type"', b'{ "type"'), id="inner whitespace"),
        pytest.param(
            lambda b: json.dumps(dict(reversed(json.loads(b).items()))).encode(), id="key order"
        ),
    ],
)
def test_tampered_body_is_refused(wh_server: Server, db: Database, tamper: object) -> None:
    body = event_body()
    headers = signed(body)
    forged = tamper(body)  # type: ignore[operator]
    assert forged != body
    assert_problem(post(wh_server, forged, headers), 401)
    assert stored(db, headers["webhook-id"]) == []


@pytest.mark.parametrize("offset", [-360, 360, -3600 * 24, 3600 * 24 * 365])
def test_stale_or_future_timestamp_is_refused(wh_server: Server, db: Database, offset: int) -> None:
    body = event_body()
    headers = signed(body, at=datetime.now(UTC) + timedelta(seconds=offset))
    assert_problem(post(wh_server, body, headers), 401)
    assert stored(db, headers["webhook-id"]) == []


def test_another_sources_secret_is_refused(wh_server: Server, db: Database) -> None:
    body = event_body()
    headers = signed(body, secret=CREATOR_SECRET)  # valid for "creator", sent to "billing"
    assert_problem(post(wh_server, body, headers), 401)
    assert post(wh_server, body, headers, "/v1/webhooks/inbound/creator").status_code == 202


def test_a_source_mid_rotation_accepts_both_of_its_secrets(wh_server: Server) -> None:
    path = "/v1/webhooks/inbound/creator"
    for secret in (CREATOR_SECRET, CREATOR_OLD_SECRET):
        body = event_body()
        assert post(wh_server, body, signed(body, secret=secret), path).status_code == 202
    body = event_body()  # and still nothing else
    assert_problem(post(wh_server, body, signed(body, secret=BILLING_SECRET), path), 401)


def test_unknown_source_is_not_found(wh_server: Server) -> None:
    body = event_body()
    for source in ("stripe", "BILLING", "billing%00", "x" * 65):
        response = post(wh_server, body, signed(body), f"/v1/webhooks/inbound/{source}")
        assert response.status_code == 404, (source, response.text)


@pytest.mark.usefixtures("worker")
def test_replay_inside_the_window_is_acknowledged_not_reprocessed(
    wh_server: Server, db: Database
) -> None:
    body = event_body()
    headers = signed(body)
    assert post(wh_server, body, headers).status_code == 202
    msg_id = headers["webhook-id"]
    wait_until(lambda: stored(db, msg_id)[0][1] is not None)
    again = post(wh_server, body, signed(body, msg_id=msg_id))  # fresh timestamp, same id
    assert again.status_code == 200, again.text
    assert again.json() == {"status": "duplicate"}
    time.sleep(1.0)  # give the worker every chance to process it again
    assert [(row[0], row[2]) for row in stored(db, msg_id)] == [("billing", 1)]


@pytest.mark.usefixtures("worker")
def test_ten_concurrent_duplicates_are_processed_exactly_once(
    wh_server: Server, db: Database
) -> None:
    body = event_body(race=True)
    headers = signed(body)
    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = sorted(pool.map(lambda _: post(wh_server, body, headers).status_code, range(10)))
    assert statuses == [200] * 9 + [202]
    msg_id = headers["webhook-id"]
    wait_until(lambda: stored(db, msg_id)[0][1] is not None)
    time.sleep(1.0)
    assert [(row[0], row[2]) for row in stored(db, msg_id)] == [("billing", 1)]


def _headers_with(**overrides: str | None) -> dict[str, str]:
    headers = signed(event_body())
    for name, value in overrides.items():
        key = name.replace("_", "-")
        if value is None:
            headers.pop(key)
        else:
            headers[key] = value
    return headers


MALFORMED: dict[str, dict[str, str | None]] = {
    "no id": {"webhook_id": None},
    "no timestamp": {"webhook_timestamp": None},
    "no signature": {"webhook_signature": None},
    "empty signature": {"webhook_signature": ""},
    "signature without comma": {"webhook_signature": "v1"},
    "signature not base64": {"webhook_signature": "v1,!!!not-base64!!!"},
    "signature bad padding": {"webhook_signature": "v1,abc"},
    "only other versions": {"webhook_signature": "v1a,AAAA"},
    "too many signatures": {"webhook_signature": " ".join(["v1,AAAA"] * 20)},
    "double space": {"webhook_signature": "v1,AAAA  v1,AAAA"},
    "timestamp exponent": {"webhook_timestamp": "1.7e9"},
    "timestamp negative": {"webhook_timestamp": "-5"},
    "timestamp nan": {"webhook_timestamp": "nan"},
    "timestamp huge": {"webhook_timestamp": "9" * 40},
    "id with spaces": {"webhook_id": "msg 1"},
    "id too long": {"webhook_id": "m" * 300},
}


@pytest.mark.parametrize("label", sorted(MALFORMED))
def test_malformed_signature_headers_are_400_never_500(
    wh_server: Server, db: Database, label: str
) -> None:
    headers = _headers_with(**MALFORMED[label])
    response = post(wh_server, event_body(), headers)
    assert_problem(response, 400)
    before = db.scalar("SELECT count(*) FROM inbound_webhook_event")
    assert db.scalar("SELECT count(*) FROM inbound_webhook_event") == before


def test_signed_but_malformed_bodies_are_400(wh_server: Server) -> None:
    for body in (b"not json", b"[1, 2]", b'"text"', b"\xff\xfe\x00bad utf-8"):
        msg_id = f"msg_{uuid.uuid4().hex}"
        at = datetime.now(UTC)
        text = body.decode("utf-8", errors="replace")
        headers = {
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": Webhook(BILLING_SECRET).sign(msg_id, at, text),
        }
        assert_problem(post(wh_server, body, headers), 400)


def test_oversized_body_is_refused_before_verification(wh_server: Server) -> None:
    body = event_body(padding="x" * (300 * 1024))  # over MAX_WEBHOOK_BODY_BYTES (256 KiB)
    assert_problem(post(wh_server, body, signed(body)), 413)


def test_oversized_chunked_body_is_refused_while_reading(wh_server: Server) -> None:
    body = event_body(padding="x" * (300 * 1024))
    headers = signed(body)

    def chunks() -> Iterator[bytes]:  # no Content-Length: the cap is counted while reading
        for start in range(0, len(body), 16 * 1024):
            yield body[start : start + 16 * 1024]

    response = httpx.post(wh_server.url + PATH, content=chunks(), headers=headers, timeout=30)
    assert_problem(response, 413)


def test_rate_limited_per_source_and_ip(
    server_factory: ServerFactory, db: Database, tmp_path: Path
) -> None:
    env = base_env(db, **{**WEBHOOK_ENV, "RATE_LIMIT_WEBHOOK": "3/minute"})
    with server_factory(env, log_path=tmp_path / "server.log") as server:
        codes = []
        for _ in range(4):
            body = event_body()
            codes.append(post(server, body, signed(body)).status_code)
        assert codes == [202, 202, 202, 429]
        body = event_body()  # another source has its own budget
        creator = post(
            server, body, signed(body, secret=CREATOR_SECRET), "/v1/webhooks/inbound/creator"
        )
        assert creator.status_code == 202


@pytest.mark.parametrize(
    "body",
    [
        b'{"type": "x", "data": ' + b"[" * 5000 + b"]" * 5000 + b"}",  # RecursionError in json
        b"{" + b'"a":{' * 3000 + b"}" * 3001,
        b'{"type": "x", "data": ' + b"[" * 65 + b"]" * 65 + b"}",  # just past the bound
        b'{"type": "x", "amount": ' + b"9" * 5000 + b"}",  # int() digit limit: ValueError
    ],
    ids=["arrays-5000", "objects-3000", "depth-66", "huge-integer"],
)
def test_signed_hostile_json_is_400_never_500(wh_server: Server, db: Database, body: bytes) -> None:
    headers = signed(body)
    response = post(wh_server, body, headers)
    assert_problem(response, 400)
    assert response.json()["code"] == "invalid_json"
    assert stored(db, headers["webhook-id"]) == []


def test_signed_json_within_the_depth_bound_is_accepted(wh_server: Server) -> None:
    body = b'{"type": "x", "data": ' + b"[" * 60 + b"]" * 60 + b"}"
    assert post(wh_server, body, signed(body)).status_code == 202
