"""TOTP (RFC 6238 via ``pyotp``) and recovery codes: the pure parts, no I/O.

``pyotp.TOTP.verify`` answers yes/no; replay protection needs *which* time step matched, so the
±1 step window is walked here with ``generate_otp`` and a constant-time comparison.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime

import pyotp

from app.core.security import token_hash, token_hashes

ISSUER = "Launchproof"
STEP_SECONDS = 30
SKEW_STEPS = 1
RECOVERY_CODE_COUNT = 10
RECOVERY_PURPOSE = "recovery_code"
# pragma: allowlist nextline secret
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read off paper


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret, interval=STEP_SECONDS).provisioning_uri(
        name=email, issuer_name=ISSUER
    )


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step whose code equals ``code`` within ±1 step of ``now``, else None."""
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, interval=STEP_SECONDS)
    current = int(now.timestamp()) // STEP_SECONDS
    for step in range(current - SKEW_STEPS, current + SKEW_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def new_recovery_codes() -> list[str]:
    """Ten codes of 10 characters (~49 bits each) as ``xxxxx-xxxxx``."""
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def normalise_recovery_code(code: str) -> str:
    return code.strip().lower().replace("-", "").replace(" ", "")


def recovery_hash(secret_key: bytes, code: str) -> bytes:
    return token_hash(secret_key, RECOVERY_PURPOSE, normalise_recovery_code(code))


def recovery_hashes(ring: tuple[bytes, ...], code: str) -> list[bytes]:
    return token_hashes(ring, RECOVERY_PURPOSE, normalise_recovery_code(code))
