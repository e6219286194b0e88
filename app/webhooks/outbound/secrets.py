"""Signing secrets: generated server-side, shown once, encrypted at rest with MultiFernet.

Keys come from ``WEBHOOK_ENCRYPTION_KEYS`` (comma-separated Fernet keys): the first encrypts,
every one decrypts, so rotating means prepending a new key, running
letting the worker re-encrypt each secret as it uses it (``stale_encryption``) and removing
the old key once no secret needs it. Outside production, when
the setting is empty, one key is derived from ``SECRET_KEY`` with HKDF-SHA256 (a distinct
``info`` label, so it is not the key used for token hashes); production refuses to start
without explicit keys. A database dump without the keys yields no signing secret.
"""

from __future__ import annotations

import base64
import secrets

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.core.config import Environment, Settings

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
SECRET_BYTES = 32
_HKDF_INFO = b"launchproof webhook secret encryption v1"
_UNDECRYPTABLE = "webhook secret cannot be decrypted with the configured keys"


class SecretUnavailable(Exception):
    """A stored secret cannot be decrypted with the configured keys."""


def new_signing_secret() -> str:
    """``whsec_`` + base64 of 32 random bytes (the Standard Webhooks secret format)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def _derived_key(secret_key: bytes) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO)
    return base64.urlsafe_b64encode(hkdf.derive(secret_key))


def _fernets(settings: Settings) -> list[Fernet]:
    keys = settings.webhook_encryption_key_list()
    if not keys:
        if settings.environment is Environment.PRODUCTION:
            raise RuntimeError("WEBHOOK_ENCRYPTION_KEYS is not set")
        # One derived key per SECRET_KEY in the ring: a rotation re-encrypts lazily, as above.
        keys = [_derived_key(key).decode("ascii") for key in settings.secret_key_ring()]
    return [Fernet(key.encode("ascii")) for key in keys]


def cipher(settings: Settings) -> MultiFernet:
    """The MultiFernet for the configured keys (derived from SECRET_KEY outside production)."""
    return MultiFernet(_fernets(settings))


def encrypt_secret(settings: Settings, secret: str) -> bytes:
    return cipher(settings).encrypt(secret.encode("ascii"))


def decrypt_secret(settings: Settings, token: bytes) -> str:
    try:
        return cipher(settings).decrypt(bytes(token)).decode("ascii")
    except InvalidToken:
        raise SecretUnavailable(
            "webhook secret cannot be decrypted with the configured keys"
        ) from None


def stale_encryption(settings: Settings, token: bytes) -> bytes | None:
    """The token re-encrypted under the newest key if an older key encrypted it, else None.

    The worker calls this whenever it loads a secret, so after a key is prepended every secret
    in use moves to it; ``docs/webhooks.md`` says when the old key may be removed.
    """
    try:
        _fernets(settings)[0].decrypt(bytes(token))
        return None
    except InvalidToken:
        pass
    try:
        return cipher(settings).rotate(bytes(token))
    except InvalidToken:
        raise SecretUnavailable(_UNDECRYPTABLE) from None
