"""Webhook building blocks without a server: secrets at rest and key rotation, backoff and
Retry-After, and the development-only switches production refuses."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr, ValidationError
from standardwebhooks.webhooks import Webhook

from app.core.config import Environment, Settings
from app.core.json_limits import JSONRefused, loads_bounded, nesting_depth_exceeds
from app.core.outbound import OutboundPolicyError
from app.core.outbound.dns import resolver_for
from app.webhooks.events import EventType, build_payload
from app.webhooks.outbound.delivery import backoff_seconds, parse_retry_after
from app.webhooks.outbound.policy import delivery_policy
from app.webhooks.outbound.secrets import (
    SecretUnavailable,
    decrypt_secret,
    encrypt_secret,
    new_signing_secret,
    stale_encryption,
)
from app.webhooks.outbound.signing import signature_headers

SECRET_KEY = SecretStr("k" * 48)


def settings(**values: object) -> Settings:
    return Settings(secret_key=SECRET_KEY, **values)  # type: ignore[arg-type]


@pytest.mark.checklist("C4", red="generate endpoint secrets with fewer than 32 random bytes")
def test_new_secrets_are_32_random_bytes_with_the_standard_prefix() -> None:
    secrets = {new_signing_secret() for _ in range(50)}
    assert len(secrets) == 50
    for secret in secrets:
        assert secret.startswith("whsec_")
        assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32


@pytest.mark.checklist(
    "C4",
    red="drop the previous encryption key from the Fernet ring during rotation",
)
def test_key_rotation_prepend_decrypt_then_reencrypt() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    secret = new_signing_secret()
    token = encrypt_secret(settings(webhook_encryption_keys=old), secret)
    rotated = settings(webhook_encryption_keys=f"{new},{old}")
    assert decrypt_secret(rotated, token) == secret  # old key still decrypts
    moved = stale_encryption(rotated, token)
    assert moved is not None
    assert stale_encryption(rotated, moved) is None  # already under the newest key
    only_new = settings(webhook_encryption_keys=new)
    assert decrypt_secret(only_new, moved) == secret  # the old key can now be removed
    with pytest.raises(SecretUnavailable):
        decrypt_secret(only_new, token)


@pytest.mark.checklist(
    "C4",
    red="let production derive the webhook encryption key instead of requiring one",
)
def test_development_derives_a_key_production_refuses_to() -> None:
    dev = settings(environment=Environment.DEVELOPMENT)
    secret = new_signing_secret()
    assert decrypt_secret(dev, encrypt_secret(dev, secret)) == secret
    with pytest.raises(RuntimeError, match="WEBHOOK_ENCRYPTION_KEYS"):
        encrypt_secret(settings(environment=Environment.PRODUCTION), secret)


def test_production_refuses_the_test_switches() -> None:
    prod = settings(environment=Environment.PRODUCTION, outbound_dns_server="127.0.0.1:5353")
    assert "OUTBOUND_DNS_SERVER is set" in prod.production_problems()
    with pytest.raises(RuntimeError):
        resolver_for(prod)
    with pytest.raises(OutboundPolicyError):
        delivery_policy(
            settings(
                environment=Environment.PRODUCTION, outbound_dev_allowed_addresses=["127.0.0.1"]
            ),
            "https://hooks.example.com/x",
        )
    production = delivery_policy(
        settings(environment=Environment.PRODUCTION), "http://hooks.example.com:8080/x"
    )
    assert not production.allow_http
    assert production.allowed_ports == frozenset()


@pytest.mark.parametrize(
    "value", ["billing=whsec_", "Billing=whsec_QUFBQUFBQUFBQUFBQUFBQUFBQUE=", "x=not base64!"]
)
def test_malformed_inbound_secrets_stop_start_up(value: str) -> None:
    with pytest.raises(ValidationError):
        settings(webhook_inbound_secrets=value)


def test_backoff_is_full_jitter_exponential_and_honours_retry_after() -> None:
    config = settings(webhook_retry_base_seconds=10, webhook_retry_max_seconds=300)
    for attempts, ceiling in ((1, 10), (2, 20), (3, 40), (10, 300)):
        delays = [backoff_seconds(config, attempts, None) for _ in range(200)]
        assert all(0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling / 2  # spread over the range, not a fixed step
    assert backoff_seconds(config, 1, 120.0) >= 120.0
    assert backoff_seconds(config, 1, 10_000.0) == 300.0  # capped


def test_retry_after_seconds_and_http_dates() -> None:
    now = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
    assert parse_retry_after("120", now) == 120.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=90), usegmt=True), now) == 90
    assert parse_retry_after(format_datetime(now - timedelta(hours=1), usegmt=True), now) == 0.0
    for garbage in (None, "", "soon", "-5", "1.5"):
        assert parse_retry_after(garbage, now) is None


HOSTILE_RETRY_AFTER = [
    "²",  # str.isdigit() is true, int() raises
    "٣",  # Arabic-Indic digit: int() accepts it, HTTP does not
    "１２",  # fullwidth digits
    "-1",
    "+5",
    " 7 ",
    "1e9",
    "nan",
    "inf",
    "9" * 17,  # longer than any sane delta
    "9" * 10_000,
    "Mon, 32 Dec 9999 25:61:61 GMT",
    "Fri, 31 Dec 9999 23:59:59 GMT",  # far future, valid
    "Mon, 01 Jan 0001 00:00:00 GMT",  # year 1: datetime arithmetic at its edge
    "Tue, 15 Nov 1994 08:12:31 +9999",
    "\x00\xff",
    "‮60",
    "Wed, 21 Oct 2015 07:28:00",  # no zone
    ",,,,",
]


@pytest.mark.parametrize("value", HOSTILE_RETRY_AFTER)
def test_retry_after_parsing_is_total_and_backoff_stays_bounded(value: str) -> None:
    """Whatever the receiver sends, parsing returns None or a finite number >= 0; never raises."""
    now = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
    parsed = parse_retry_after(value, now)
    assert parsed is None or (parsed >= 0 and parsed == parsed and parsed != float("inf"))
    config = settings(webhook_retry_base_seconds=1, webhook_retry_max_seconds=60)
    assert 0 <= backoff_seconds(config, 3, parsed) <= 60


def test_only_ascii_delta_seconds_count() -> None:
    now = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
    assert parse_retry_after("²", now) is None
    assert parse_retry_after("٣", now) is None
    assert parse_retry_after(" 30 ", now) == 30.0


def test_backoff_ignores_non_finite_or_negative_retry_after() -> None:
    config = settings(webhook_retry_base_seconds=1, webhook_retry_max_seconds=60)
    for odd in (float("nan"), float("inf"), -1e9):
        assert 0 <= backoff_seconds(config, 1, odd) <= 60


@pytest.mark.checklist("C7", red="stop refusing inbound JSON nested past the depth bound")
@pytest.mark.parametrize(
    ("text", "too_deep"),
    [
        ("[" * 64 + "]" * 64, False),
        ("[" * 65 + "]" * 65, True),
        ('{"a": "' + "[" * 500 + '"}', False),  # brackets inside a string do not nest
        (r'{"a": "\\"}', False),  # an escaped backslash closes nothing early
        (r'["\"' + "[" * 100 + '"]', False),  # an escaped quote keeps the string open
    ],
)
def test_inbound_json_depth_scan(text: str, too_deep: bool) -> None:
    assert nesting_depth_exceeds(text, 64) is too_deep


@pytest.mark.checklist(
    "C7",
    red="parse deep inbound JSON with the plain json module (RecursionError, a 500)",
)
def test_bounded_json_refuses_without_recursion_error() -> None:
    with pytest.raises(JSONRefused):
        loads_bounded("[" * 100_000 + "]" * 100_000)
    with pytest.raises(JSONRefused):
        loads_bounded('{"n": ' + "1" * 10_000 + "}")
    assert loads_bounded('{"a": [1, {"b": 2}]}') == {"a": [1, {"b": 2}]}


def test_payloads_carry_content_only_when_opted_in_and_sign_verifiably() -> None:
    data = {"message_id": "m1", "content": "secret plans", "role": "user"}
    at = datetime.now(UTC)
    minimal = build_payload(EventType.MESSAGE_CREATED, data, include_content=False, occurred_at=at)
    assert "secret plans" not in minimal
    full = build_payload(EventType.MESSAGE_CREATED, data, include_content=True, occurred_at=at)
    assert "secret plans" in full
    old, new = new_signing_secret(), new_signing_secret()
    headers = signature_headers([new, old], msg_id="msg_1", timestamp=at, body=minimal)
    for secret in (old, new):
        assert Webhook(secret).verify(minimal, headers)["type"] == "message.created"
