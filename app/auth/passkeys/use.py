"""Using a passkey: as the only credential (discoverable sign-in), as the second factor of
two-step login, and for step-up. The ceremony is claimed first (single use), then the response
is checked against the owner's stored key, then the signature counter is claimed atomically.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.mfa import notices
from app.auth.passkeys import ceremony, webauthn
from app.auth.passkeys.errors import PasskeyRejected
from app.auth.passkeys.models import Passkey
from app.auth.passkeys.repository import PasskeyRepository
from app.core.metrics import AUTH_FAILURES
from app.identity.dependencies import AuthDeps
from app.identity.models import User


class Outcome(StrEnum):
    OK = "ok"
    FAILED = "failed"
    CLONED = "cloned"  # counter regression: already audited and mailed


async def check(
    session: AsyncSession,
    deps: AuthDeps,
    user: User,
    challenge: bytes,
    assertion: webauthn.Assertion,
) -> tuple[Outcome, Passkey | None]:
    """Verify ``assertion`` as ``user``'s passkey against ``challenge`` and record the use.

    A credential of another account, a user handle that is not the account's, a wrong origin,
    RP id, signature or missing user verification fail (``FAILED``, raised as
    ``PasskeyRejected`` by ``verify_assertion`` and caught here). A counter that did not move
    forward refuses the sign-in, is audited and mails the owner (``CLONED``)."""
    keys = PasskeyRepository(session)
    found = await keys.by_credential_id(assertion.credential_id)
    if found is None or found.user_id != user.id:
        return Outcome.FAILED, None
    if assertion.user_handle is not None:
        handle = await keys.user_handle_of(user.id)
        if handle is None or assertion.user_handle != handle:
            return Outcome.FAILED, None
    stored = webauthn.StoredKey(
        credential_id=bytes(found.credential_id),
        public_key=bytes(found.public_key),
        aaguid=found.aaguid,
    )
    try:
        count = webauthn.verify_assertion(deps.settings, challenge, assertion, stored)
    except PasskeyRejected:
        return Outcome.FAILED, None
    if not await keys.claim_use(found.id, count, datetime.now(UTC)):
        AUTH_FAILURES.labels(reason="passkey_counter_regressed").inc()
        await notices.notify_failure(
            deps.audit_sessionmaker,
            user_id=user.id,
            email=user.email,
            action="mfa.passkey_counter_regressed",
            details={
                "passkey_id": str(found.id),
                "stored_count": str(found.sign_count),
                "presented_count": str(count),
            },
        )
        return Outcome.CLONED, found
    return Outcome.OK, found


async def as_factor(
    session: AsyncSession,
    deps: AuthDeps,
    user: User,
    response: Mapping[str, Any],
    *,
    purpose: str,
    session_id: uuid.UUID | None = None,
    login_challenge_id: uuid.UUID | None = None,
) -> Outcome:
    """A passkey presented as a second factor (login step 2 or step-up): the ceremony bound to
    the half session or the session is claimed, then the assertion checked for ``user``."""
    started = await ceremony.claim(
        deps.sessionmaker,
        deps.settings,
        purpose,
        session_id=session_id,
        login_challenge_id=login_challenge_id,
    )
    if started.user_id != user.id:
        return Outcome.FAILED
    assertion = webauthn.parse_assertion(response)
    outcome, _ = await check(session, deps, user, bytes(started.challenge), assertion)
    return outcome
