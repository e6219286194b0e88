"""TOTP secrets encrypted at rest, with the webhook secrets' key discipline (ADR 0015, 0018).

The key list is the one webhook signing secrets use: ``WEBHOOK_ENCRYPTION_KEYS`` (required in
production) or, outside production, the ``SECRET_KEY`` ring. Each key is passed through
HKDF-SHA256 with a TOTP-only ``info`` label first, so the cipher key for TOTP secrets is never
the key for webhook secrets or token hashes. The first key encrypts, all decrypt; a secret read
under an older key is re-encrypted under the newest one as it is used (``rotated``).
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.core.config import Environment, Settings

_HKDF_INFO = b"launchproof totp secret encryption v1"


class SecretUnavailable(Exception):
    """A stored TOTP secret cannot be decrypted with the configured keys."""


def _fernets(settings: Settings) -> list[Fernet]:
    sources = [key.encode("ascii") for key in settings.webhook_encryption_key_list()]
    if not sources:
        if settings.environment is Environment.PRODUCTION:
            raise RuntimeError("WEBHOOK_ENCRYPTION_KEYS is not set")
        sources = list(settings.secret_key_ring())
    derived = []
    for source in sources:
        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO)
        derived.append(Fernet(base64.urlsafe_b64encode(hkdf.derive(source))))
    return derived


def encrypt(settings: Settings, secret: str) -> bytes:
    return MultiFernet(_fernets(settings)).encrypt(secret.encode("ascii"))


def decrypt(settings: Settings, token: bytes) -> str:
    try:
        return MultiFernet(_fernets(settings)).decrypt(bytes(token)).decode("ascii")
    except InvalidToken:
        raise SecretUnavailable(
            "TOTP secret cannot be decrypted with the configured keys"
        ) from None


def rotated(settings: Settings, token: bytes) -> bytes | None:
    """The token under the newest key if an older key encrypted it, else None."""
    fernets = _fernets(settings)
    try:
        fernets[0].decrypt(bytes(token))
        return None
    except InvalidToken:
        return MultiFernet(fernets).rotate(bytes(token))
