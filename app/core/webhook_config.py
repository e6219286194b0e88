"""Parsing and production checks for the webhook settings (kept out of config.py for size).

``WEBHOOK_INBOUND_SECRETS`` is ``source=whsec_<base64>,...``; during a provider's secret
rotation one source may list two secrets separated by a space (``billing=whsec_new whsec_old``),
and a call signed with either verifies. A malformed entry (bad source name, secret not base64,
shorter than 16 bytes) stops start-up instead of failing a request later.
``WEBHOOK_ENCRYPTION_KEYS`` is a comma list of Fernet keys, newest first.
"""

from __future__ import annotations

import base64
import binascii
import re

from pydantic import BaseModel, Field


class WebhookSettings(BaseModel):
    """Outgoing delivery tuning and the disable/retention policy, mixed into ``Settings``
    (split from config.py by subdomain, like ``FileSettings``; one environment, ``WEBHOOK_*``).
    """

    # After a rotation the previous secret keeps signing (a second v1 signature) this long.
    webhook_secret_overlap_seconds: int = Field(default=24 * 3600, ge=0, le=30 * 24 * 3600)
    webhook_max_attempts: int = Field(default=10, ge=1, le=50)  # per delivery, then failed
    # An endpoint is disabled only when it has failed continuously this long AND at least this
    # many attempts in a row (410 Gone disables at once); its deliveries are held, not failed.
    webhook_disable_after_seconds: float = Field(default=5 * 24 * 3600.0, ge=0, le=90 * 24 * 3600)
    webhook_disable_after_failures: int = Field(default=20, ge=1, le=100_000)
    # Deliveries stay replayable (recover) and a disabled endpoint keeps recording events this long.
    webhook_retention_days: int = Field(default=30, ge=1, le=365)
    webhook_retry_base_seconds: float = Field(default=10.0, gt=0, le=3600)
    webhook_retry_max_seconds: float = Field(default=6 * 3600.0, gt=0, le=7 * 24 * 3600)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    webhook_batch_size: int = Field(default=50, ge=1, le=1000)  # deliveries claimed per round
    webhook_concurrency: int = Field(default=10, ge=1, le=100)  # requests in flight per worker
    webhook_lease_seconds: float = Field(default=120.0, ge=5, le=3600)


_SOURCE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
MIN_INBOUND_SECRET_BYTES = 16


def split_list(raw: str) -> list[str]:
    return [item.strip() for item in raw.split(",") if item.strip()]


def parse_inbound_secrets(raw: str) -> dict[str, str]:
    """``{source: "secret[ secret]"}``; raises ``ValueError`` (naming no secret) if malformed."""
    sources: dict[str, str] = {}
    for item in split_list(raw):
        name, _, secrets = (part.strip() for part in item.partition("="))
        if not _SOURCE.fullmatch(name):
            raise ValueError("WEBHOOK_INBOUND_SECRETS: a source name is malformed")
        for secret in secrets.split(" ") if secrets else [""]:
            try:
                key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
            except (binascii.Error, ValueError):
                raise ValueError("WEBHOOK_INBOUND_SECRETS: a secret is not base64") from None
            if len(key) < MIN_INBOUND_SECRET_BYTES:
                raise ValueError("WEBHOOK_INBOUND_SECRETS: a secret is shorter than 16 bytes")
        sources[name] = secrets
    return sources


def webhook_problems(encryption_keys: list[str], dns_server: str | None) -> list[str]:
    """What production refuses about webhooks (messages name settings, never values)."""
    from cryptography.fernet import Fernet

    problems: list[str] = []
    if not encryption_keys:
        problems.append("WEBHOOK_ENCRYPTION_KEYS is not set")
    for key in encryption_keys:
        try:
            Fernet(key.encode())
        except ValueError:
            problems.append("WEBHOOK_ENCRYPTION_KEYS holds a malformed key")
            break
    if dns_server is not None:
        problems.append("OUTBOUND_DNS_SERVER is set")
    return problems
