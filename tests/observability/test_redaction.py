"""The redaction processor on its own, and through the structlog and stdlib chains that use it."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

import pytest
import structlog

from app.core.logging import shared_processors, stdlib_formatter, tail_processors
from app.core.redaction import (
    REDACTED,
    redact_event,
    redact_value,
    scrub_exception_text,
    scrub_text,
)

pytestmark = pytest.mark.checklist(
    "C9",
    red="drop a credential pattern, a sensitive key or control-character escaping from "
    "app/core/redaction.py, or keep local variables in exception frames",
)

EVENT = "request handled"


def redacted(**fields: Any) -> dict[str, Any]:
    return redact_event(None, "info", {"event": EVENT, **fields})


def render(event: str, **fields: Any) -> str:
    """One line through the structlog chain the app configures (minus the output stream)."""
    logger = structlog.wrap_logger(
        structlog.ReturnLogger(), processors=[*shared_processors(), *tail_processors()]
    )
    line: str = logger.info(event, **fields)
    return line


class TestSensitiveKeys:
    @pytest.mark.parametrize(
        "key",
        [
            "content",
            "prompt",
            "system_prompt",
            "body",
            "text",
            "message",
            "password",
            "new_password",
            "current_password",
            "token",
            "reset_token",
            "cookie",
            "Set-Cookie",
            "Authorization",
            "api_key",
            "webhook_secret",
            "email",
        ],
    )
    def test_value_replaced(self, key: str) -> None:
        assert redacted(**{key: "plantedvalue hello"})[key] == REDACTED

    def test_nested_dicts_and_lists(self) -> None:
        value = {"outer": [{"headers": {"cookie": "plantedcookie"}}, {"content": "plantedtext"}]}
        out = json.dumps(redacted(payload=value))
        assert "plantedcookie" not in out
        assert "plantedtext" not in out
        assert out.count(REDACTED) == 2

    def test_ids_and_counts_kept(self) -> None:
        out = redacted(api_key_id="3f0c", prompt_tokens=12, user_id="u1", principal_kind="api_key")
        assert (out["api_key_id"], out["prompt_tokens"], out["user_id"]) == ("3f0c", 12, "u1")
        assert out["principal_kind"] == "api_key"

    def test_event_kept(self) -> None:
        assert redacted()["event"] == EVENT


class TestPatterns:
    @pytest.mark.parametrize(
        ("planted", "kept"),
        [
            ("lpk_" + "A1b2C3d4E5f6G7h8I9j0K1", "lpk_[redacted]"),
            ("whsec_" + "Zm9vYmFyYmF6cXV4MTIzNDU2", "whsec_[redacted]"),
            ("sk-proj-" + "abcdefghijklmnopqrstuv12", "sk-[redacted]"),
            ("Bearer " + "abcdefghijklmnopqrstuvwxyz", "Bearer [redacted]"),
            ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlMTIz", "[redacted jwt]"),
        ],
    )
    def test_credential_formats(self, planted: str, kept: str) -> None:
        out = redacted(note_id=f"see {planted} here")["note_id"]
        assert planted not in out
        assert kept in out

    def test_presigned_url_query_dropped(self) -> None:
        url = (
            "https://bucket.s3.amazonaws.com/f/report.pdf?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            "&X-Amz-Credential=AKIAEXAMPLE%2F20260101&X-Amz-Signature=plantedsignature"
        )
        out = scrub_text(f"fetch {url} failed")
        assert out == "fetch https://bucket.s3.amazonaws.com/f/report.pdf?[redacted] failed"

    def test_email_masked(self) -> None:
        out = scrub_text("sent to planted.person@example.com today")
        assert out == "sent to p***@example.com today"

    @pytest.mark.parametrize(
        "text",
        [
            "password=plantedpw1 rest",
            'body {"password": "plantedpw1"}',
            "reset_token: plantedpw1",
            "Cookie=plantedpw1; Path=/",
        ],
    )
    def test_key_value_credentials_in_free_text(self, text: str) -> None:
        assert "plantedpw1" not in scrub_text(text)

    def test_generic_credentials_in_tracebacks(self) -> None:
        # AWS and GitHub formats come from detect-secrets (app/core/secret_scan.py).
        trace = "Traceback\n  File x\nKeyError: AKIAIOSFODNN7EXAMPLE ghp_" + "a1" * 18
        out = redacted(exception=trace)["exception"]
        assert "AKIAIOSFODNN7EXAMPLE" not in out
        assert "Traceback" in out

    def test_plain_prose_untouched(self) -> None:
        text = "rate limit store unavailable; allowing"
        assert scrub_text(text) == text
        assert redacted(exception="Traceback\nValueError: bad value")["exception"] == (
            "Traceback\\nValueError: bad value"
        )


class TestControlCharacters:
    def test_newlines_escaped(self) -> None:
        forged = 'x"\n{"event": "admin login", "level": "info"}'
        out = redacted(reason=forged)["reason"]
        assert "\n" not in out
        assert "\\n" in out

    @pytest.mark.parametrize("char", ["\r", "\t", "\x00", "\x1b", "\x85", "\u2028"])
    def test_other_controls_escaped(self, char: str) -> None:
        out = redacted(reason=f"a{char}b")["reason"]
        assert char not in out
        assert out.startswith("a\\")
        assert out.endswith("b")

    def test_keys_escaped(self) -> None:
        out = redact_value({"a\nb": 1})
        assert out == {"a\\nb": 1}


class TestChains:
    def test_structlog_exception_message_redacted(self) -> None:
        try:
            raise ValueError("login failed for planted@example.com password=plantedpw2")
        except ValueError:
            line = render("unhandled exception", exc_info=True)
        out = json.loads(line)
        assert out["event"] == "unhandled exception"
        assert out["exception"][0]["exc_type"] == "ValueError"
        assert "plantedpw2" not in line
        assert "planted@example.com" not in line

    def test_exception_frames_never_carry_local_variables(self) -> None:
        def send(secret: str) -> None:
            payload = {"signing_secret": secret}
            raise RuntimeError(f"send failed ({len(payload)} fields)")

        try:
            send("planted-local-" + "z" * 12)
        except RuntimeError:
            line = render("job failed", exc_info=True)
        (stack,) = json.loads(line)["exception"]
        assert [frame["name"] for frame in stack["frames"]][-1] == "send"
        assert all(set(frame) == {"filename", "lineno", "name"} for frame in stack["frames"])
        assert "planted-local" not in line

    def test_sql_parameters_detail_and_pydantic_input_are_dropped(self) -> None:
        text = (
            "(sqlalchemy.dialects.postgresql.asyncpg.IntegrityError) violates check\n"
            "DETAIL:  Failing row contains (plantedrow1).\n"
            "[SQL: INSERT INTO message (content) VALUES ($1)]\n"
            "[parameters: ('plantedparam2 ] \n with a bracket',)]\n"
            "(Background on this error at: https://sqlalche.me/e/20/gkpj)\n"
            "  Value error [type=value_error, input_value='plantedinput3', input_type=str]"
        )
        out = scrub_exception_text(text)
        for planted in ("plantedrow1", "plantedparam2", "plantedinput3"):
            assert planted not in out
        assert "[SQL: INSERT INTO message (content) VALUES ($1)]" in out
        assert "sqlalche.me" in out

    def test_scrubbing_twice_changes_nothing(self) -> None:
        once = scrub_text("password=plantedpw4 token: 'plantedtok5'")
        assert scrub_text(once) == once

    def test_stdlib_record_rendered_and_redacted(self) -> None:
        try:
            raise RuntimeError("token=plantedtoken3 for lpk_" + "Q" * 24)
        except RuntimeError:
            exc_info = sys.exc_info()
        record = logging.LogRecord(
            "uvicorn.error",
            logging.ERROR,
            __file__,
            1,
            "Exception in ASGI application from %s",
            ("planted@example.org",),
            exc_info,
        )
        line = stdlib_formatter().format(record)
        assert "\n" not in line
        out = json.loads(line)
        assert out["logger"] == "uvicorn.error"
        assert out["level"] == "error"
        assert out["event"] == "Exception in ASGI application from p***@example.org"
        assert "plantedtoken3" not in line
        assert "Q" * 24 not in line
        assert out["exception"][0]["exc_type"] == "RuntimeError"

    def test_a_log_call_is_fast(self) -> None:
        fields = {
            "method": "POST",
            "route": "/v1/conversations/{conversation_id}/messages",
            "status": 200,
            "duration_ms": 12.5,
            "client_ip": "203.0.113.9",
            "principal_kind": "session",
            "user_id": "6f1c2b1e-0000-4000-8000-000000000000",
            "error": "ValueError",
        }
        render(EVENT, **fields)
        rounds = 500
        started = time.perf_counter()
        for _ in range(rounds):
            render(EVENT, **fields)
        per_call = (time.perf_counter() - started) / rounds
        assert per_call < 0.001, f"{per_call * 1e6:.0f} µs per log call"
