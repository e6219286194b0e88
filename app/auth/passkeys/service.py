"""Register, list, rename and remove passkeys; the options of every passkey prompt; and sign-in
with a passkey alone (docs/mfa.md, docs/decisions/0021).

Adding or removing a passkey is audited and mails a security notice. The first factor of an
account (a passkey or an authenticator app) turns on two-step login and comes with ten recovery
codes; the routes that add or remove one sit behind the step-up gate once a factor exists.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.mfa import notices
from app.auth.mfa import service as mfa_service
from app.auth.mfa.challenge import find_challenge
from app.auth.mfa.errors import LoginChallengeInvalid, NoSecondFactor
from app.auth.mfa.repository import FactorRepository
from app.auth.passkeys import ceremony, webauthn
from app.auth.passkeys.errors import PasskeyExists, PasskeyNotFound, PasskeyRejected
from app.auth.passkeys.models import Passkey
from app.auth.passkeys.repository import PasskeyRepository
from app.auth.passkeys.use import Outcome, check
from app.auth.service import IssuedSession, open_session
from app.core.metrics import AUTH_FAILURES
from app.core.rate_limit import Budget, RateLimiter, client_ip_key
from app.identity.dependencies import AuthDeps
from app.identity.principal import Principal
from app.users.repository import UserRepository


@dataclass(frozen=True)
class Registered:
    passkey: Passkey
    recovery_codes: list[str] | None  # the account's first factor: shown once


@dataclass(frozen=True)
class Prompt:
    options: dict[str, Any]
    token: str | None = None  # the anonymous sign-in's ceremony cookie
    max_age: int = ceremony.CEREMONY_TTL_SECONDS


async def registration_options(
    session: AsyncSession, deps: AuthDeps, principal: Principal
) -> dict[str, Any]:
    """Creation options for a new discoverable passkey of the signed-in person, bound to this
    session; the account's random user handle is made on first use."""
    assert principal.session_id is not None
    user = await UserRepository(session).get_self(principal.user_id)
    assert user is not None
    keys = PasskeyRepository(session)
    handle = await keys.user_handle_of(user.id)
    if handle is None:
        await keys.set_user_handle(user.id, secrets.token_bytes(32))
        handle = await keys.user_handle_of(user.id)
        assert handle is not None
    existing = [bytes(k.credential_id) for k in await keys.of_user(user.id)]
    started = await ceremony.start(
        session,
        deps.settings,
        ceremony.REGISTER,
        user_id=user.id,
        session_id=principal.session_id,
    )
    return webauthn.creation_options(
        deps.settings,
        challenge=started.challenge,
        user_handle=handle,
        email=user.email,
        display_name=user.display_name,
        existing=existing,
    )


async def register(
    session: AsyncSession,
    deps: AuthDeps,
    principal: Principal,
    *,
    name: str,
    response: Mapping[str, Any],
) -> Registered:
    """Check the new credential against this session's registration ceremony and store it."""
    assert principal.session_id is not None
    started = await ceremony.claim(
        deps.sessionmaker, deps.settings, ceremony.REGISTER, session_id=principal.session_id
    )
    credential = webauthn.verify_registration(deps.settings, bytes(started.challenge), response)
    keys = PasskeyRepository(session)
    if await keys.by_credential_id(credential.credential_id) is not None:
        raise PasskeyExists()
    now = datetime.now(UTC)
    transports = response.get("response", {}).get("transports") or []
    passkey = await keys.create(
        Passkey(
            id=uuid.uuid4(),
            user_id=principal.user_id,
            credential_id=credential.credential_id,
            public_key=credential.public_key,
            sign_count=credential.sign_count,
            name=name,
            aaguid=credential.aaguid,
            transports=[str(t)[:32] for t in transports][:8],
        )
    )
    factors = FactorRepository(session)
    user = await UserRepository(session).get_self(principal.user_id)
    assert user is not None
    codes = None
    if not principal.has_second_factor:
        await factors.set_enrolled(user.id, now)
    # Registration verified the user on the authenticator: a fresh factor for step-up.
    await factors.mark_session_verified(user.id, principal.session_id, now)
    await notices.notify(
        session,
        "mfa.passkey_added",
        user_id=user.id,
        email=user.email,
        principal=principal,
        details={"passkey_id": str(passkey.id)},
    )
    if not principal.has_second_factor:
        codes = await mfa_service.new_recovery_codes(session, deps, principal, user)
    return Registered(passkey=passkey, recovery_codes=codes)


async def list_passkeys(session: AsyncSession, principal: Principal) -> Sequence[Passkey]:
    return await PasskeyRepository(session).of_user(principal.user_id)


async def rename(
    session: AsyncSession, principal: Principal, passkey_id: uuid.UUID, name: str
) -> Passkey:
    keys = PasskeyRepository(session)
    if not await keys.rename(principal.user_id, passkey_id, name):
        raise PasskeyNotFound()
    await audit.record(
        session,
        "mfa.passkey_renamed",
        principal=principal,
        target_type="user",
        target_id=principal.user_id,
        details={"passkey_id": str(passkey_id)},
    )
    found = await keys.get_of_user(principal.user_id, passkey_id)
    assert found is not None
    await session.refresh(found)
    return found


async def remove(session: AsyncSession, principal: Principal, passkey_id: uuid.UUID) -> None:
    """Delete one passkey; with no factor left, sign-in returns to the password alone."""
    if not await PasskeyRepository(session).delete_of_user(principal.user_id, passkey_id):
        raise PasskeyNotFound()
    await mfa_service.after_removal(session, principal)
    await notices.notify(
        session,
        "mfa.passkey_removed",
        user_id=principal.user_id,
        email=principal.email,
        principal=principal,
        details={"passkey_id": str(passkey_id)},
    )


async def _allowed(session: AsyncSession, user_id: uuid.UUID) -> list[bytes]:
    allowed = [bytes(k.credential_id) for k in await PasskeyRepository(session).of_user(user_id)]
    if not allowed:
        raise NoSecondFactor("This account has no passkey.")
    return allowed


async def step_up_options(session: AsyncSession, deps: AuthDeps, principal: Principal) -> Prompt:
    assert principal.session_id is not None
    allowed = await _allowed(session, principal.user_id)
    started = await ceremony.start(
        session,
        deps.settings,
        ceremony.STEP_UP,
        user_id=principal.user_id,
        session_id=principal.session_id,
    )
    return Prompt(
        webauthn.request_options(deps.settings, challenge=started.challenge, allowed=allowed)
    )


async def second_factor_options(
    session: AsyncSession, deps: AuthDeps, *, challenge_token: str, user_agent: str | None
) -> Prompt:
    """Request options for login step 2, bound to the half session of this browser. Answered
    alike for a right and a wrong password (the methods of step 1 already named the passkey)."""
    challenge = await find_challenge(session, deps.settings, challenge_token, user_agent)
    if challenge is None:
        raise LoginChallengeInvalid()
    allowed = await _allowed(session, challenge.user_id)
    started = await ceremony.start(
        session,
        deps.settings,
        ceremony.SECOND_FACTOR,
        user_id=challenge.user_id,
        login_challenge_id=challenge.id,
    )
    return Prompt(
        webauthn.request_options(deps.settings, challenge=started.challenge, allowed=allowed)
    )


async def login_options(session: AsyncSession, deps: AuthDeps, user_agent: str | None) -> Prompt:
    """Request options for a passkey-only sign-in: no account named (the authenticator offers
    its discoverable passkeys), bound to a new anonymous ceremony cookie and this browser."""
    started = await ceremony.start(session, deps.settings, ceremony.LOGIN, user_agent=user_agent)
    return Prompt(
        webauthn.request_options(deps.settings, challenge=started.challenge, allowed=None),
        token=started.token,
    )


async def login(
    session: AsyncSession,
    deps: AuthDeps,
    *,
    token: str,
    user_agent: str | None,
    response: Mapping[str, Any],
    limiter: RateLimiter,
) -> IssuedSession:
    """Sign in with a discoverable passkey alone: user verification on the authenticator makes
    it two factors in one, so the session counts as having presented a factor."""
    started = await ceremony.claim(
        deps.sessionmaker, deps.settings, ceremony.LOGIN, token=token, user_agent=user_agent
    )
    assertion = webauthn.parse_assertion(response)
    if assertion.user_handle is None:
        raise PasskeyRejected("A passkey sign-in needs a discoverable credential (no user handle).")
    found = await PasskeyRepository(session).by_credential_id(assertion.credential_id)
    user = await UserRepository(session).get_self(found.user_id) if found else None
    if user is None or not user.is_active:
        AUTH_FAILURES.labels(reason="bad_passkey").inc()
        raise PasskeyRejected()
    await limiter.hit(Budget.SECOND_FACTOR_ACCOUNT, f"{user.id}|{client_ip_key()}")
    outcome, _ = await check(session, deps, user, bytes(started.challenge), assertion)
    if outcome is Outcome.CLONED:
        raise PasskeyRejected(
            "This passkey's signature counter went backwards: a copy of it may exist. "
            "The account owner has been told."
        )
    if outcome is not Outcome.OK:
        AUTH_FAILURES.labels(reason="bad_passkey").inc()
        # Audited, not mailed: anyone may send junk naming a credential id, and the owner
        # should not be spammed by strangers (as for step-1 failures, docs/decisions/0018).
        await audit.record_detached(
            deps.audit_sessionmaker,
            "auth.login",
            outcome="failure",
            actor_user_id=user.id,
            details={"method": "passkey"},
        )
        raise PasskeyRejected()
    return await open_session(session, deps, user, user_agent=user_agent, factor_verified=True)
