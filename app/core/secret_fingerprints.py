"""Fingerprints of one environment's secrets, so another can prove it shares none of them.

``python -m app secret-fingerprints`` (run in staging) prints a JSON document; production's
``check-config --staging-fingerprints FILE`` (or the ``STAGING_SECRET_FINGERPRINTS`` setting,
checked at every production start) refuses any production secret that matches one.

What the document reveals: which settings staging has, and for each secret value
``scrypt(value, salt)`` with a random salt per document and a memory-hard cost (16 MiB, about
50 ms per guess). The random secrets (SECRET_KEY, Fernet keys, tokens) cannot be guessed at any
cost; the salt stops precomputed tables and cross-document comparison; scrypt makes guessing a
human-chosen database or SMTP password offline slow. The values themselves never appear.

Secrets are compared by value, whatever the setting: a staging SECRET_KEY reused as production's
METRICS_TOKEN is still shared. URL settings contribute their password (staging and production
databases differ by host; a shared password is what matters); comma lists contribute each item.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from app.core.config import Settings

FORMAT = "launchproof-secret-fingerprints/1"
# scrypt parameters: n=2**14, r=8 is 16 MiB per evaluation (the cost RFC 7914 suggests for
# interactive use); a document asking for less is refused rather than trusted.
SCRYPT = {"n": 2**14, "r": 8, "p": 1}
SALT_BYTES = 16
MAX_FINGERPRINTS = 200

# Setting -> how its secret values are extracted (a whole value, each comma item, a URL password).
_WHOLE = ("secret_key", "openai_api_key", "metrics_token", "dkim_private_key")
_ITEMS = ("secret_key_previous", "webhook_encryption_keys")
_WHOLE_FILES = ("s3_access_key_id", "s3_secret_access_key")
_URL_PASSWORDS = ("database_url", "database_migration_url", "redis_url", "smtp_url")


class FingerprintFileError(ValueError):
    """The fingerprints document is malformed (the message quotes no content)."""


@dataclass(frozen=True)
class Fingerprints:
    salt: bytes
    by_digest: dict[bytes, str]  # digest -> staging setting name


def _digest(value: str, salt: bytes) -> bytes:
    return hashlib.scrypt(value.encode(), salt=salt, maxmem=64 * 1024 * 1024, dklen=32, **SCRYPT)


def _url_password(url: str) -> str | None:
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return parts.password or None


def _sentry_key(dsn: str) -> str | None:
    # https://<public key>@host/project: the key is what authenticates event submission.
    try:
        return urlsplit(dsn).username or None
    except ValueError:
        return None


def secret_values(settings: Settings) -> Iterator[tuple[str, str]]:
    """(SETTING_NAME, secret value) for every secret the process holds."""

    def raw(name: str) -> str | None:
        value = getattr(settings, name)
        return None if value is None else str(value.get_secret_value())

    for name in (*_WHOLE, *_WHOLE_FILES):
        if value := raw(name):
            yield name.upper(), value
    for name in _ITEMS:
        for item in (raw(name) or "").split(","):
            if item.strip():
                yield name.upper(), item.strip()
    for name in _URL_PASSWORDS:
        if (value := raw(name)) and (password := _url_password(value)):
            yield name.upper(), password
    if (dsn := raw("sentry_dsn")) and (key := _sentry_key(dsn)):
        yield "SENTRY_DSN", key
    for source, pair in settings.webhook_inbound_secret_map().items():
        for secret in pair.get_secret_value().split():
            yield f"WEBHOOK_INBOUND_SECRETS[{source}]", secret


def fingerprint_document(settings: Settings, environment: str) -> dict[str, Any]:
    salt = secrets.token_bytes(SALT_BYTES)
    return {
        "format": FORMAT,
        "environment": environment,
        "kdf": {"name": "scrypt", **SCRYPT},
        "salt": salt.hex(),
        "fingerprints": [
            {"setting": name, "digest": _digest(value, salt).hex()}
            for name, value in secret_values(settings)
        ],
    }


def load_fingerprints(text: str) -> Fingerprints:
    try:
        document = json.loads(text)
    except ValueError:
        raise FingerprintFileError("is not JSON") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise FingerprintFileError(f"is not a {FORMAT} document")
    if document.get("kdf") != {"name": "scrypt", **SCRYPT}:
        raise FingerprintFileError("uses other scrypt parameters than this version")
    try:
        salt = bytes.fromhex(document["salt"])
        entries = document["fingerprints"]
        by_digest = {bytes.fromhex(entry["digest"]): str(entry["setting"]) for entry in entries}
    except (KeyError, TypeError, ValueError):
        raise FingerprintFileError("has a malformed salt or fingerprint") from None
    if len(salt) < SALT_BYTES or not by_digest or len(by_digest) > MAX_FINGERPRINTS:
        raise FingerprintFileError("has a short salt or no (or too many) fingerprints")
    if any(len(digest) != 32 for digest in by_digest):
        raise FingerprintFileError("has a malformed fingerprint")
    return Fingerprints(salt=salt, by_digest=by_digest)


def shared_with_staging(settings: Settings, staging: Fingerprints) -> list[str]:
    """One problem per production secret whose value staging also holds (names only)."""
    problems: list[str] = []
    for name, value in secret_values(settings):
        digest = _digest(value, staging.salt)
        for known, staging_name in staging.by_digest.items():
            if hmac.compare_digest(digest, known):
                problems.append(f"{name} is the same secret as staging's {staging_name}")
                break
    return problems
