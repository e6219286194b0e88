"""The half-signed-in state: password given, second factor still due (docs/decisions/0018).

A random token in its own ``HttpOnly`` cookie (``__Host-lp_login``, SameSite=Strict), stored as
a keyed hash, alive five minutes, completed once. It is bound to the browser that started it by a
keyed hash of its User-Agent: the cookie replayed from another browser finds nothing. It
records whether the password was right instead of saying so.
"""

from __future__ import annotations

import hmac
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.mfa.models import LoginChallenge
from app.auth.mfa.repository import ChallengeRepository, FactorRepository
from app.auth.passkeys.repository import PasskeyRepository
from app.core.config import Settings
from app.core.security import new_token, token_hash, token_hashes
from app.identity.models import User

CHALLENGE_PURPOSE = "login_challenge"
_BROWSER_PURPOSE = "login_browser"
CHALLENGE_TTL_SECONDS = 300


@dataclass(frozen=True)
class PendingFactor:
    token: str
    methods: list[str]
    max_age: int = CHALLENGE_TTL_SECONDS


def _browser_hash(key: bytes, user_agent: str | None) -> bytes:
    return token_hash(key, _BROWSER_PURPOSE, (user_agent or "")[:500])


async def start_challenge(
    session: AsyncSession,
    settings: Settings,
    user: User,
    *,
    password_ok: bool,
    user_agent: str | None,
) -> PendingFactor:
    token = new_token()
    key = settings.require_secret_key()
    now = datetime.now(UTC)
    await ChallengeRepository(session).create(
        LoginChallenge(
            id=uuid.uuid4(),
            user_id=user.id,
            token_hash=token_hash(key, CHALLENGE_PURPOSE, token),
            browser_hash=_browser_hash(key, user_agent),
            password_ok=password_ok,
            failed_attempts=0,
            expires_at=now + timedelta(seconds=CHALLENGE_TTL_SECONDS),
        ),
        flush=False,
    )
    factors = FactorRepository(session)
    totp = await factors.totp_of(user.id)
    methods = ["totp"] if totp is not None and totp.confirmed_at is not None else []
    if await PasskeyRepository(session).count_of(user.id):
        methods.append("passkey")
    return PendingFactor(token=token, methods=[*methods, "recovery_code"])


async def find_challenge(
    session: AsyncSession, settings: Settings, token: str, user_agent: str | None
) -> LoginChallenge | None:
    """The live challenge behind ``token`` if this browser started it, else None."""
    if not token or len(token) > 128:
        return None
    ring = settings.secret_key_ring()
    found = await ChallengeRepository(session).live(
        token_hashes(ring, CHALLENGE_PURPOSE, token), datetime.now(UTC)
    )
    if found is None:
        return None
    presented = [_browser_hash(key, user_agent) for key in ring]
    if not any(hmac.compare_digest(bytes(found.browser_hash), h) for h in presented):
        return None
    return found
