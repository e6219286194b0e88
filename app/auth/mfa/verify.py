"""Check a presented second factor (TOTP code or recovery code) and spend it.

Shared by login step 2 and step-up. A TOTP code is spent by claiming its time step, a recovery
code by marking it used, both with one conditional UPDATE: two requests presenting the same code
at once cannot both pass.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.mfa import codes, secret_box
from app.auth.mfa.repository import FactorRepository
from app.core.config import Settings

TOTP = "totp"
RECOVERY_CODE = "recovery_code"
PASSKEY = "passkey"  # checked by app.auth.passkeys.use (a WebAuthn ceremony, not a code)


async def spend_factor(
    session: AsyncSession,
    settings: Settings,
    user_id: uuid.UUID,
    *,
    code: str | None,
    recovery_code: str | None,
    now: datetime,
) -> str | None:
    """The method that verified (``totp`` or ``recovery_code``), or None."""
    factors = FactorRepository(session)
    if code is not None:
        totp = await factors.totp_of(user_id)
        if totp is None or totp.confirmed_at is None:
            return None
        secret = secret_box.decrypt(settings, totp.secret_encrypted)
        step = codes.matching_step(secret, code, now)
        if step is None or not await factors.claim_totp_step(user_id, step):
            return None
        fresher = secret_box.rotated(settings, totp.secret_encrypted)
        if fresher is not None:
            await factors.store_totp_secret(totp.id, fresher)
        return TOTP
    if recovery_code is not None:
        hashes = codes.recovery_hashes(settings.secret_key_ring(), recovery_code)
        if await factors.consume_recovery_code(user_id, hashes, now):
            return RECOVERY_CODE
    return None
