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


def test_new_secrets_are_32_random_bytes_with_the_standard_prefix() -> None:
    secrets = {new_signing_secret() for _ in range(50)}
    assert len(secrets) == 50
    for secret in secrets:
        assert secret.startswith("whsec_")
        assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32


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
