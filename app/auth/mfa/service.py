"""Enrol, use and remove second factors; step-up; the admin reset.

Every change is audited and mails a security notice (``notices``). Routes that remove or replace
a factor, or add one to an account that has one, sit behind the step-up gate
(``app.auth.mfa.gates``), so a stolen session alone cannot swap the victim's factor.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.mfa import codes, notices, secret_box
from app.auth.mfa.errors import (
    InvalidEnrolmentCode,
    InvalidSecondFactor,
    NoPendingTotp,
    NoSecondFactor,
    TotpAlreadyEnabled,
)
from app.auth.mfa.models import TotpFactor
from app.auth.mfa.repository import FactorRepository
from app.auth.mfa.verify import RECOVERY_CODE, spend_factor
from app.auth.passkeys import ceremony
from app.auth.passkeys.repository import PasskeyRepository
from app.auth.passkeys.use import Outcome, as_factor
from app.core.errors import NotFound
from app.core.metrics import AUTH_FAILURES
from app.identity.dependencies import AuthDeps
from app.identity.models import User
from app.identity.principal import Principal
from app.identity.repository import SessionRepository
from app.users.repository import UserRepository


@dataclass(frozen=True)
class TotpEnrolment:
    secret: str
    otpauth_uri: str


@dataclass(frozen=True)
class FactorStatus:
    totp: bool
    passkeys: int
    recovery_codes_left: int
    factor_verified_at: datetime | None


def _now() -> datetime:
    return datetime.now(UTC)


async def _me(session: AsyncSession, principal: Principal) -> User:
    user = await UserRepository(session).get_self(principal.user_id)
    assert user is not None  # the session lookup just found this active user
    return user


async def status(session: AsyncSession, principal: Principal) -> FactorStatus:
    factors = FactorRepository(session)
    totp = await factors.totp_of(principal.user_id)
    return FactorStatus(
        totp=totp is not None and totp.confirmed_at is not None,
        passkeys=await PasskeyRepository(session).count_of(principal.user_id),
        recovery_codes_left=await factors.recovery_codes_left(principal.user_id),
        factor_verified_at=principal.factor_verified_at,
    )


async def start_totp(session: AsyncSession, deps: AuthDeps, principal: Principal) -> TotpEnrolment:
    """A new secret, pending until confirmed with a code; a pending one is replaced."""
    factors = FactorRepository(session)
    existing = await factors.totp_of(principal.user_id)
    if existing is not None and existing.confirmed_at is not None:
        raise TotpAlreadyEnabled()
    if existing is not None:
        await factors.delete_totp(principal.user_id)
    secret = codes.new_secret()
    await factors.create(
        TotpFactor(
            id=uuid.uuid4(),
            user_id=principal.user_id,
            secret_encrypted=secret_box.encrypt(deps.settings, secret),
        )
    )
    return TotpEnrolment(secret=secret, otpauth_uri=codes.provisioning_uri(secret, principal.email))


async def confirm_totp(
    session: AsyncSession, deps: AuthDeps, principal: Principal, *, code: str
) -> list[str]:
    """Activate the pending secret with its first code; returns ten fresh recovery codes (shown
    once). The code's step counts as used, and the session as having just presented a factor."""
    factors = FactorRepository(session)
    pending = await factors.totp_of(principal.user_id)
    if pending is None or pending.confirmed_at is not None:
        raise NoPendingTotp()
    now = _now()
    step = codes.matching_step(
        secret_box.decrypt(deps.settings, pending.secret_encrypted), code, now
    )
    if step is None:
        raise InvalidEnrolmentCode()
    pending.confirmed_at = now
    pending.last_used_step = step
    if not principal.has_second_factor:
        await factors.set_enrolled(principal.user_id, now)
    assert principal.session_id is not None
    await factors.mark_session_verified(principal.user_id, principal.session_id, now)
    user = await _me(session, principal)
    await notices.notify(
        session, "mfa.totp_enabled", user_id=user.id, email=user.email, principal=principal
    )
    return await new_recovery_codes(session, deps, principal, user)


async def new_recovery_codes(
    session: AsyncSession, deps: AuthDeps, principal: Principal, user: User
) -> list[str]:
    fresh = codes.new_recovery_codes()
    key = deps.settings.require_secret_key()
    await FactorRepository(session).replace_recovery_codes(
        user.id, [codes.recovery_hash(key, code) for code in fresh]
    )
    await notices.notify(
        session,
        "mfa.recovery_codes_generated",
        user_id=user.id,
        email=user.email,
        principal=principal,
    )
    return fresh


async def regenerate_recovery_codes(
    session: AsyncSession, deps: AuthDeps, principal: Principal
) -> list[str]:
    if not principal.has_second_factor:
        raise NoSecondFactor()
    return await new_recovery_codes(session, deps, principal, await _me(session, principal))


async def disable_totp(session: AsyncSession, principal: Principal) -> None:
    """Remove the authenticator app; with no factor left, the account is back to one step."""
    factors = FactorRepository(session)
    totp = await factors.totp_of(principal.user_id)
    if totp is None or totp.confirmed_at is None:
        raise NoSecondFactor("No authenticator app is enrolled.")
    await factors.delete_totp(principal.user_id)
    await after_removal(session, principal)
    user = await _me(session, principal)
    await notices.notify(
        session, "mfa.totp_disabled", user_id=user.id, email=user.email, principal=principal
    )


async def after_removal(session: AsyncSession, principal: Principal) -> None:
    """With neither an authenticator app nor a passkey left, recovery codes go too and sign-in
    returns to the password alone."""
    factors = FactorRepository(session)
    totp = await factors.totp_of(principal.user_id)
    passkeys = await PasskeyRepository(session).count_of(principal.user_id)
    if (totp is None or totp.confirmed_at is None) and passkeys == 0:
        await factors.replace_recovery_codes(principal.user_id, [])
        await factors.set_enrolled(principal.user_id, None)


async def step_up(
    session: AsyncSession,
    deps: AuthDeps,
    principal: Principal,
    *,
    code: str | None,
    recovery_code: str | None,
    passkey: Mapping[str, Any] | None = None,
) -> datetime:
    """Present a factor inside a signed-in session: step-up routes open for the next
    ``STEP_UP_MAX_AGE_SECONDS``. Returns the verification time. A passkey answers the prompt
    from ``POST /v1/auth/step-up/passkey-options`` (``step_up_options``)."""
    if not principal.has_second_factor:
        raise NoSecondFactor()
    now = _now()
    user = await _me(session, principal)
    assert principal.session_id is not None
    if passkey is not None:
        outcome = await as_factor(
            session, deps, user, passkey, purpose=ceremony.STEP_UP, session_id=principal.session_id
        )
        if outcome is Outcome.CLONED:
            raise InvalidSecondFactor()
        method = "passkey" if outcome is Outcome.OK else None
    else:
        method = await spend_factor(
            session, deps.settings, user.id, code=code, recovery_code=recovery_code, now=now
        )
    if method is None:
        AUTH_FAILURES.labels(reason="bad_second_factor").inc()
        await notices.notify_failure(
            deps.audit_sessionmaker, user_id=user.id, email=user.email, details={"step": "step_up"}
        )
        raise InvalidSecondFactor()
    await FactorRepository(session).mark_session_verified(user.id, principal.session_id, now)
    if method == RECOVERY_CODE:
        await notices.notify(
            session,
            "mfa.recovery_code_used",
            user_id=user.id,
            email=user.email,
            principal=principal,
        )
    return now


async def admin_reset(session: AsyncSession, principal: Principal, user_id: uuid.UUID) -> None:
    """Staff (with their own fresh factor, enforced by the staff gate) remove every factor of a
    user who lost them; the user's sessions end, so the next sign-in is a fresh one."""
    user = await UserRepository(session).get_self(user_id)
    if user is None:
        raise NotFound("No such user.")
    factors = FactorRepository(session)
    await factors.delete_all(user.id)
    await PasskeyRepository(session).delete_all(user.id)
    await factors.set_enrolled(user.id, None)
    await SessionRepository(session).revoke_all(user.id, _now())
    await notices.notify(
        session, "mfa.reset_by_admin", user_id=user.id, email=user.email, principal=principal
    )
