"""Login step 2: the half session plus a factor becomes a full session."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.errors import InvalidCredentials
from app.auth.mfa import notices
from app.auth.mfa.challenge import find_challenge
from app.auth.mfa.errors import LoginChallengeInvalid
from app.auth.mfa.repository import ChallengeRepository
from app.auth.mfa.verify import PASSKEY, RECOVERY_CODE, spend_factor
from app.auth.passkeys import ceremony
from app.auth.passkeys.use import Outcome, as_factor
from app.auth.service import IssuedSession, open_session
from app.core.metrics import AUTH_FAILURES
from app.core.rate_limit import Budget, RateLimiter, client_ip_key
from app.identity.dependencies import AuthDeps
from app.users.repository import UserRepository


async def complete_login(
    session: AsyncSession,
    deps: AuthDeps,
    *,
    challenge_token: str,
    user_agent: str | None,
    code: str | None,
    recovery_code: str | None,
    limiter: RateLimiter,
    passkey: Mapping[str, Any] | None = None,
) -> IssuedSession:
    """Check the factor against a live challenge from this browser and open the session.

    A wrong password (recorded at step 1) and a wrong factor fail alike (``invalid_credentials``)
    and count against the challenge; the factor is not even checked without the right password,
    so the endpoint is no TOTP oracle. A failure after the right password mails the owner: their
    password is known to someone.
    """
    challenge = await find_challenge(session, deps.settings, challenge_token, user_agent)
    if challenge is None:
        AUTH_FAILURES.labels(reason="login_challenge_invalid").inc()
        raise LoginChallengeInvalid()
    user = await UserRepository(session).get_self(challenge.user_id)
    if user is None or not user.is_active:
        raise LoginChallengeInvalid()
    # Per account *and* IP: a brute force from one place is stopped without locking the owner
    # out elsewhere; across places, each challenge takes five wrong factors and each challenge
    # costs a step-1 login, itself limited per account (docs/decisions/0018).
    await limiter.hit(Budget.SECOND_FACTOR_ACCOUNT, f"{user.id}|{client_ip_key()}")
    now = datetime.now(UTC)
    method = None
    if passkey is not None:
        # Checked whatever the password was: a missing ceremony or malformed response must
        # answer the same for a right and a wrong password (no password oracle at step 2).
        outcome = await as_factor(
            session,
            deps,
            user,
            passkey,
            purpose=ceremony.SECOND_FACTOR,
            login_challenge_id=challenge.id,
        )
        if outcome is Outcome.CLONED:  # audited and mailed already
            raise InvalidCredentials()
        method = PASSKEY if outcome is Outcome.OK and challenge.password_ok else None
    elif challenge.password_ok:
        method = await spend_factor(
            session, deps.settings, user.id, code=code, recovery_code=recovery_code, now=now
        )
    if method is None or not await ChallengeRepository(session).consume(challenge.id, now):
        AUTH_FAILURES.labels(reason="bad_second_factor").inc()
        await notices.notify_failure(
            deps.audit_sessionmaker,
            user_id=user.id,
            email=user.email,
            details={"step": "login"},
            challenge_id=challenge.id,
            mail=challenge.password_ok,
        )
        raise InvalidCredentials()
    if method == RECOVERY_CODE:
        await notices.notify(session, "mfa.recovery_code_used", user_id=user.id, email=user.email)
    return await open_session(session, deps, user, user_agent=user_agent, factor_verified=True)
