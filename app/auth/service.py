"""Accounts and sessions: signup, verification, login, logout, reset and change of password."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.errors import (
    EmailNotVerified,
    InvalidCredentials,
    InvalidToken,
    WeakPassword,
    WrongCurrentPassword,
)
from app.auth.mfa.challenge import PendingFactor, start_challenge
from app.auth.models import OneTimeToken, TokenPurpose
from app.auth.repository import OneTimeTokenRepository
from app.core.metrics import AUTH_FAILURES
from app.core.request_context import current_client_ip
from app.core.security import new_token, token_hash, token_hashes
from app.email.service import send_email
from app.identity.credentials import SESSION_PURPOSE
from app.identity.dependencies import AuthDeps
from app.identity.models import User, UserSession
from app.identity.passwords import password_problem
from app.identity.principal import Principal
from app.identity.repository import SessionRepository
from app.users.repository import UserRepository


@dataclass(frozen=True)
class IssuedSession:
    token: str
    user: User
    max_age: int


def _now() -> datetime:
    return datetime.now(UTC)


def _check_password(password: str, email: str) -> None:
    problem = password_problem(password, email=email)
    if problem is not None:
        raise WeakPassword(problem)


async def _issue_one_time_token(
    session: AsyncSession, deps: AuthDeps, user: User, purpose: TokenPurpose, ttl: int
) -> str:
    token = new_token()
    await OneTimeTokenRepository(session).create(
        OneTimeToken(
            id=uuid.uuid4(),
            user_id=user.id,
            purpose=purpose,
            token_hash=token_hash(deps.settings.require_secret_key(), purpose.value, token),
            expires_at=_now() + timedelta(seconds=ttl),
        ),
        flush=False,
    )
    return token


async def _send_verification(session: AsyncSession, deps: AuthDeps, user: User) -> None:
    token = await _issue_one_time_token(
        session, deps, user, TokenPurpose.VERIFY_EMAIL, deps.settings.email_token_ttl_seconds
    )
    await send_email(
        session,
        to=user.email,
        kind="verify_email",
        subject="Confirm your e-mail address",
        body_text=f"Confirm your address: {deps.settings.public_url}/verify-email#token={token}\n",
    )


async def signup(
    session: AsyncSession, deps: AuthDeps, *, email: str, password: str, display_name: str | None
) -> None:
    """Create an unverified account and mail a verification link.

    Whether the address is already registered never shows: the answer is the same 202 and both
    paths pay for one argon2 hash. The existing owner gets a notice instead of a link.
    """
    _check_password(password, email)
    users = UserRepository(session)
    password_hash = await deps.passwords.hash(password)
    existing = await users.get_by_email(email)
    if existing is not None:
        await send_email(
            session,
            to=existing.email,
            kind="signup_existing",
            subject="Someone tried to sign up with your address",
            body_text="If this was you, sign in or reset your password instead.\n",
        )
        return
    user = User(
        id=uuid.uuid4(), email=email, display_name=display_name, password_hash=password_hash
    )
    await users.create(user)
    await _send_verification(session, deps, user)
    await audit.record(
        session, "user.signup", actor_user_id=user.id, target_type="user", target_id=user.id
    )


async def confirm_email(session: AsyncSession, deps: AuthDeps, *, token: str) -> None:
    consumed = await OneTimeTokenRepository(session).consume(
        token_hashes(deps.settings.secret_key_ring(), TokenPurpose.VERIFY_EMAIL.value, token),
        TokenPurpose.VERIFY_EMAIL,
        _now(),
    )
    if consumed is None:
        raise InvalidToken()
    user = await UserRepository(session).get_self(consumed.user_id)
    if user is None:
        raise InvalidToken()
    if user.email_verified_at is None:
        user.email_verified_at = _now()
    await audit.record(
        session, "user.email_verified", actor_user_id=user.id, target_type="user", target_id=user.id
    )


async def resend_verification(session: AsyncSession, deps: AuthDeps, *, email: str) -> None:
    user = await UserRepository(session).get_by_email(email)
    if user is not None and user.email_verified_at is None and user.is_active:
        await _send_verification(session, deps, user)


async def login(
    session: AsyncSession, deps: AuthDeps, *, email: str, password: str, user_agent: str | None
) -> IssuedSession | PendingFactor:
    """Check the password and open a fresh session (a new token at every login: no fixation),
    or, for an account with a second factor, a half session that step 2 completes.

    Unknown user, wrong password and suspended user fail identically (same error, one argon2
    verification each). Outdated hash parameters are upgraded on success.
    """
    # Read the account on a short connection of its own and hold none while argon2 queues behind
    # its limiter: otherwise a burst of failed logins holds every pooled connection while each
    # waits for a second one to audit its failure, and the pool deadlocks until it times out.
    async with deps.sessionmaker() as lookup:
        user = await UserRepository(lookup).get_by_email(email)
    ok = await deps.passwords.verify(user.password_hash if user else None, password)
    if user is not None and user.is_active and user.second_factor_at is not None:
        return await _second_step(session, deps, user, password, ok=ok, user_agent=user_agent)
    if user is None or not ok or not user.is_active:
        await audit.record_detached(
            deps.audit_sessionmaker,
            "auth.login",
            outcome="failure",
            actor_user_id=user.id if user else None,
        )
        AUTH_FAILURES.labels(reason="bad_credentials").inc()
        raise InvalidCredentials()
    if user.email_verified_at is None:
        AUTH_FAILURES.labels(reason="email_not_verified").inc()
        raise EmailNotVerified()
    if deps.passwords.needs_rehash(user.password_hash):
        new_hash = await deps.passwords.hash(password)
        await UserRepository(session).set_password(user.id, new_hash, changed=False)
    return await open_session(session, deps, user, user_agent=user_agent, factor_verified=False)


async def _second_step(
    session: AsyncSession,
    deps: AuthDeps,
    user: User,
    password: str,
    *,
    ok: bool,
    user_agent: str | None,
) -> PendingFactor:
    """A factor-enrolled account: a half session whatever the password, so this answer does not
    tell a password guesser whether the guess was right (docs/decisions/0018)."""
    if not ok:
        await audit.record_detached(
            deps.audit_sessionmaker, "auth.login", outcome="failure", actor_user_id=user.id
        )
        AUTH_FAILURES.labels(reason="bad_credentials").inc()
    elif deps.passwords.needs_rehash(user.password_hash):
        new_hash = await deps.passwords.hash(password)
        await UserRepository(session).set_password(user.id, new_hash, changed=False)
    return await start_challenge(
        session, deps.settings, user, password_ok=ok, user_agent=user_agent
    )


async def open_session(
    session: AsyncSession,
    deps: AuthDeps,
    user: User,
    *,
    user_agent: str | None,
    factor_verified: bool,
) -> IssuedSession:
    """A fresh session row and token (no fixation); ``factor_verified`` after a second factor."""
    now = _now()
    token = new_token()
    absolute = deps.settings.session_absolute_timeout_seconds
    await SessionRepository(session).create(
        UserSession(
            id=uuid.uuid4(),
            user_id=user.id,
            token_hash=token_hash(deps.settings.require_secret_key(), SESSION_PURPOSE, token),
            last_seen_at=now,
            idle_expires_at=now
            + timedelta(seconds=min(deps.settings.session_idle_timeout_seconds, absolute)),
            absolute_expires_at=now + timedelta(seconds=absolute),
            client_ip=current_client_ip(),
            user_agent=(user_agent or "")[:200] or None,
            factor_verified_at=now if factor_verified else None,
        ),
        flush=False,
    )
    await audit.record(
        session,
        "auth.login",
        actor_user_id=user.id,
        target_type="user",
        target_id=user.id,
        details={"second_factor": "yes"} if factor_verified else None,
    )
    return IssuedSession(token=token, user=user, max_age=absolute)


async def logout(session: AsyncSession, principal: Principal) -> None:
    assert principal.session_id is not None
    repo = SessionRepository(session)
    current = await repo.get_live_of_user(principal.user_id, principal.session_id, _now())
    if current is not None:
        current.revoked_at = _now()
    await audit.record(session, "auth.logout", principal=principal)


async def logout_all(session: AsyncSession, principal: Principal) -> int:
    count = await SessionRepository(session).revoke_all(principal.user_id, _now())
    await audit.record(session, "auth.logout_all", principal=principal, details={"sessions": count})
    return count


async def request_password_reset(session: AsyncSession, deps: AuthDeps, *, email: str) -> None:
    """Mail a reset link if the account exists and is active; the answer never says which."""
    user = await UserRepository(session).get_by_email(email)
    if user is None or not user.is_active:
        return
    await OneTimeTokenRepository(session).invalidate_for_user(
        user.id, TokenPurpose.PASSWORD_RESET, _now()
    )
    token = await _issue_one_time_token(
        session, deps, user, TokenPurpose.PASSWORD_RESET, deps.settings.password_reset_ttl_seconds
    )
    await send_email(
        session,
        to=user.email,
        kind="password_reset",
        subject="Reset your password",
        body_text=f"Reset your password: {deps.settings.public_url}/reset-password#token={token}\n"
        "If you did not ask for this, ignore this message.\n",
    )
    await audit.record(session, "auth.password_reset_requested", actor_user_id=user.id)


async def confirm_password_reset(
    session: AsyncSession, deps: AuthDeps, *, token: str, new_password: str
) -> None:
    """Set a new password from a single-use link and end every session of the account."""
    consumed = await OneTimeTokenRepository(session).consume(
        token_hashes(deps.settings.secret_key_ring(), TokenPurpose.PASSWORD_RESET.value, token),
        TokenPurpose.PASSWORD_RESET,
        _now(),
    )
    if consumed is None:
        raise InvalidToken()
    users = UserRepository(session)
    user = await users.get_self(consumed.user_id)
    if user is None or not user.is_active:
        raise InvalidToken()
    _check_password(new_password, user.email)
    await users.set_password(user.id, await deps.passwords.hash(new_password), changed=True)
    # Following the link proves control of the mailbox, so the address is verified too.
    if user.email_verified_at is None:
        user.email_verified_at = _now()
    await SessionRepository(session).revoke_all(user.id, _now())
    await _notify_password_changed(session, user.email)
    await audit.record(
        session, "auth.password_reset", actor_user_id=user.id, target_type="user", target_id=user.id
    )


async def change_password(
    session: AsyncSession,
    deps: AuthDeps,
    principal: Principal,
    *,
    current_password: str,
    new_password: str,
) -> None:
    """Change the password (current one required) and end every *other* session."""
    users = UserRepository(session)
    user = await users.get_self(principal.user_id)
    assert user is not None
    if not await deps.passwords.verify(user.password_hash, current_password):
        await audit.record_detached(
            deps.audit_sessionmaker,
            "auth.password_change",
            outcome="failure",
            actor_user_id=user.id,
        )
        AUTH_FAILURES.labels(reason="wrong_current_password").inc()
        raise WrongCurrentPassword()
    _check_password(new_password, user.email)
    await users.set_password(user.id, await deps.passwords.hash(new_password), changed=True)
    await SessionRepository(session).revoke_all(
        user.id, _now(), except_session=principal.session_id
    )
    await _notify_password_changed(session, user.email)
    await audit.record(
        session, "auth.password_change", principal=principal, target_type="user", target_id=user.id
    )


async def _notify_password_changed(session: AsyncSession, email: str) -> None:
    await send_email(
        session,
        to=email,
        kind="password_changed",
        subject="Your password was changed",
        body_text="Your Launchproof password was just changed and other sessions were signed out.\n"
        "If this was not you, reset your password now.\n",
    )
