"""Sentry error reports: the real SDK, a real envelope receiver on loopback, nothing planted leaks.

The server under test runs with ``SENTRY_DSN`` pointing at a tiny HTTP server in this process
that keeps every envelope the SDK sends. The unexpected error is a genuine one: the app role
loses ``SELECT`` on ``user_account`` for the duration of the test (restored afterwards), so a
login fails inside its handler with a permission error and the last-resort middleware answers
500. SQLAlchemy puts the bound e-mail into that exception's message: a real leak path.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

from app.core.error_reporting import scrub_breadcrumb, scrub_event
from tests.observability.sentry_receiver import SentryReceiver
from tests.support import Database, base_env, start_server, stop_server

pytestmark = pytest.mark.checklist(
    "C4",
    "C9",
    red="send request data, the user or secret-looking values to Sentry (drop the scrubber in "
    "app/core/error_reporting.py), or keep SENTRY_DSN readable in the settings' repr",
)


@pytest.fixture
def receiver() -> Iterator[SentryReceiver]:
    with SentryReceiver() as sentry:
        yield sentry


def test_unexpected_error_reaches_sentry_without_planted_secrets(
    db: Database, receiver: SentryReceiver, tmp_path: Path
) -> None:
    planted_email = f"leak{secrets.token_hex(6)}@planted-{secrets.token_hex(3)}.example"
    planted = {
        "cookie": "ck" + secrets.token_urlsafe(24),
        "bearer": "lpk_" + secrets.token_urlsafe(24),
        "query": "qv" + secrets.token_hex(12),
        "password": "pw" + secrets.token_urlsafe(18),
        "email": planted_email,
        "email local part": planted_email.split("@", 1)[0],
    }
    srv = start_server(base_env(db, SENTRY_DSN=receiver.dsn), tmp_path / "server.log")
    role = sql.Identifier(str(make_url(db.app).username))
    try:
        with db.connect() as conn:
            conn.execute(sql.SQL("REVOKE SELECT ON user_account FROM {}").format(role))
        try:
            response = httpx.post(
                f"{srv.url}/v1/auth/login?return_to={planted['query']}",
                json={"email": planted["email"], "password": planted["password"]},
                headers={
                    "Origin": srv.origin,
                    "Cookie": f"__Host-lp_session={planted['cookie']}",
                    "Authorization": f"Bearer {planted['bearer']}",
                },
                timeout=30,
            )
        finally:
            with db.connect() as conn:
                conn.execute(sql.SQL("GRANT SELECT ON user_account TO {}").format(role))
        assert response.status_code == 500, response.text
        request_id = response.headers["x-request-id"]
        assert response.json()["request_id"] == request_id

        deadline = time.monotonic() + 15
        while not receiver.events() and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop_server(srv)  # the SDK flushes anything still queued at exit

    events = receiver.events()
    assert len(events) == 1, f"expected one event, got {len(events)}: {receiver.paths}"
    event = events[0]
    assert all(path == "/api/1/envelope/" for path in receiver.paths)
    assert event["tags"]["request_id"] == request_id
    assert event["environment"] == "test"
    assert event["exception"]["values"][-1]["type"] == "ProgrammingError"
    # Readable for a developer: the SQL stays (and its lines), the bound values go.
    assert "permission denied" in event["exception"]["values"][-1]["value"]
    # Bound values never reach the message: the engine hides them at the source
    # (hide_parameters=True) and the scrubber would redact a "[parameters: ...]" block anyway.
    value = event["exception"]["values"][-1]["value"]
    assert "[SQL parameters hidden" in value or "\n[parameters: [redacted]]" in value
    # The scrubber keeps Sentry's own fields intact (timestamps are not turned into repr()).
    assert "datetime.datetime(" not in json.dumps(event)
    assert event["exception"]["values"][-1]["mechanism"]["handled"] is False
    assert event["request"]["method"] == "POST"
    assert event["request"]["url"].endswith("/v1/auth/login")

    everything = receiver.text()
    leaked = sorted(name for name, value in planted.items() if value in everything)
    assert leaked == [], f"planted values in the Sentry envelope: {leaked}"
    # No stack frame carries local variables.
    frames = [f for v in event["exception"]["values"] for f in v["stacktrace"]["frames"]]
    assert frames
    assert not any("vars" in frame for frame in frames)


def test_scrubber_removes_request_data_user_and_secret_looking_values() -> None:
    token = "lpk_" + secrets.token_urlsafe(24)
    aws = "AKIA" + secrets.token_hex(8).upper()
    email = f"someone{secrets.token_hex(4)}@example.org"
    event: Any = {
        "event_id": "e" * 32,
        "level": "error",
        "environment": "production",
        "release": "1.2.3",
        "tags": {"request_id": "req-123456789"},
        "request": {
            "method": "POST",
            "url": f"https://api.example.org/v1/login?code={token}",
            "query_string": f"code={token}",
            "headers": {
                "Authorization": f"Bearer {token}",
                "Cookie": "__Host-lp_session=abcdef",
                "Set-Cookie": "x=y",
                "Content-Type": "application/json",
                "X-Forwarded-For": "203.0.113.9",
            },
            "cookies": {"__Host-lp_session": "abcdef"},
            "data": {"password": "hunter2-hunter2"},
            "env": {"REMOTE_ADDR": "203.0.113.9"},
        },
        "user": {"id": "u1", "email": email, "ip_address": "203.0.113.9"},
        "extra": {"db_password": "p4ss-w0rd-value", "route": "/v1/auth/login", "count": 3},
        "exception": {
            "values": [
                {
                    "type": "ProgrammingError",
                    "value": (
                        "permission denied\n[SQL: SELECT 1 WHERE email = $1]\n"
                        f"[parameters: ('{email}', 'opaque-param-value')]\n"
                        f"(Background on this error at: https://sqlalche.me/e/20/f405) {aws}"
                    ),
                    "stacktrace": {
                        "frames": [
                            {
                                "function": "login",
                                "context_line": "user = await repo.by_email(email)",
                                "vars": {"password": "hunter2-hunter2"},
                            }
                        ]
                    },
                }
            ]
        },
        "breadcrumbs": {
            "values": [
                {
                    "category": "httplib",
                    "message": f"GET https://x.example/cb?token={token}",
                    "data": {"url": f"https://x.example/cb?token={token}", "status_code": 200},
                }
            ]
        },
    }
    scrubbed = scrub_event(event, {})
    assert scrubbed is not None
    text = json.dumps(scrubbed)
    for value in (
        token,
        aws,
        email,
        "abcdef",
        "hunter2-hunter2",
        "p4ss-w0rd-value",
        "203.0.113.9",
        "opaque-param-value",
    ):
        assert value not in text, value
    for gone in ("cookies", "data", "env", "query_string"):
        assert gone not in scrubbed["request"]
    assert scrubbed["request"]["headers"] == {"Content-Type": "application/json"}
    assert scrubbed["request"]["url"] == "https://api.example.org/v1/login"
    assert scrubbed["user"] == {"id": "u1"}
    # What a developer needs survives.
    assert scrubbed["tags"] == {"request_id": "req-123456789"}
    assert scrubbed["extra"]["route"] == "/v1/auth/login"
    assert scrubbed["extra"]["count"] == 3
    exc_value = scrubbed["exception"]["values"][0]
    assert exc_value["type"] == "ProgrammingError"
    assert "permission denied" in exc_value["value"]
    frame = exc_value["stacktrace"]["frames"][0]
    assert frame["context_line"] == "user = await repo.by_email(email)"
    assert "vars" not in frame

    crumb = scrub_breadcrumb(
        {"category": "log", "message": f"called https://x.example/a?sig={token} for {email}"}, {}
    )
    assert crumb is not None
    assert token not in json.dumps(crumb)
    assert email not in json.dumps(crumb)
    assert crumb["category"] == "log"


def test_sentry_dsn_is_a_secret_read_from_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.core.config import Settings

    dsn = f"https://{secrets.token_hex(16)}@o1.ingest.example/2"
    path = tmp_path / "sentry_dsn"
    path.write_text(dsn + "\n", encoding="utf-8")
    monkeypatch.delenv("SENTRY_DSN", raising=False)
    monkeypatch.setenv("SENTRY_DSN_FILE", str(path))
    settings = Settings()
    assert settings.sentry_dsn is not None
    assert settings.sentry_dsn.get_secret_value() == dsn
    assert dsn not in repr(settings)
    assert settings.sentry_traces_sample_rate == 0.0  # traces off unless configured
