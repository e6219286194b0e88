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
