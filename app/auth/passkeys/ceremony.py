"""WebAuthn ceremonies: the challenge is made, kept and checked here, never taken from the client.

A ceremony is bound to what started it (the session, the half session of two-step login, or the
anonymous ``__Host-lp_passkey`` cookie of a passkey sign-in), lives ``CEREMONY_TTL_SECONDS`` and
is claimed once: finishing marks it used in its own committed transaction before the response is
checked, so a failed attempt cannot be retried against the same challenge either.
"""

from __future__ import annotations

import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.passkeys.errors import PasskeyCeremonyInvalid
from app.auth.passkeys.models import PasskeyCeremony
from app.auth.passkeys.repository import CeremonyRepository
from app.core.config import Settings
from app.core.security import new_token, token_hash, token_hashes

CEREMONY_TTL_SECONDS = 120
REGISTER = "register"
STEP_UP = "step_up"
SECOND_FACTOR = "second_factor"
LOGIN = "login"
_TOKEN_PURPOSE = "passkey_ceremony"  # noqa: S105 - a hash label
_BROWSER_PURPOSE = "passkey_browser"


@dataclass(frozen=True)
class Started:
    challenge: bytes
    token: str | None = None  # the anonymous sign-in's cookie value
    max_age: int = CEREMONY_TTL_SECONDS


def _browser_hash(key: bytes, user_agent: str | None) -> bytes:
    return token_hash(key, _BROWSER_PURPOSE, (user_agent or "")[:500])


async def start(
    session: AsyncSession,
    settings: Settings,
    purpose: str,
    *,
    user_id: uuid.UUID | None = None,
    session_id: uuid.UUID | None = None,
    login_challenge_id: uuid.UUID | None = None,
    user_agent: str | None = None,
) -> Started:
    """A fresh 32-byte challenge bound to a session, a half session, or (neither given) a new
    cookie token and this browser."""
    challenge = secrets.token_bytes(32)
    token = None
    ceremony = PasskeyCeremony(
        id=uuid.uuid4(),
        purpose=purpose,
        challenge=challenge,
        user_id=user_id,
        session_id=session_id,
        login_challenge_id=login_challenge_id,
        expires_at=datetime.now(UTC) + timedelta(seconds=CEREMONY_TTL_SECONDS),
    )
    if session_id is None and login_challenge_id is None:
        key = settings.require_secret_key()
        token = new_token()
        ceremony.token_hash = token_hash(key, _TOKEN_PURPOSE, token)
        ceremony.browser_hash = _browser_hash(key, user_agent)
    await CeremonyRepository(session).replace(ceremony)
    return Started(challenge=challenge, token=token)


async def claim(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    purpose: str,
    *,
    session_id: uuid.UUID | None = None,
    login_challenge_id: uuid.UUID | None = None,
    token: str | None = None,
    user_agent: str | None = None,
) -> PasskeyCeremony:
    """The live ceremony of this binding, now used (committed at once); else 401
    ``passkey_ceremony_invalid``. A cookie-bound one must also come from the browser that
    started it (a copied cookie burns the ceremony and finds nothing)."""
    hashes = None
    if token is not None:
        if not token or len(token) > 128:
            raise PasskeyCeremonyInvalid()
        hashes = token_hashes(settings.secret_key_ring(), _TOKEN_PURPOSE, token)
    elif session_id is None and login_challenge_id is None:
        raise PasskeyCeremonyInvalid()
    async with sessionmaker() as session, session.begin():
        found = await CeremonyRepository(session).claim(
            purpose,
            datetime.now(UTC),
            session_id=session_id,
            login_challenge_id=login_challenge_id,
            token_hashes=hashes,
        )
    if found is None:
        raise PasskeyCeremonyInvalid()
    if token is not None:
        presented = [_browser_hash(key, user_agent) for key in settings.secret_key_ring()]
        stored = bytes(found.browser_hash or b"")
        if not any(hmac.compare_digest(stored, h) for h in presented):
            raise PasskeyCeremonyInvalid()
    return found
