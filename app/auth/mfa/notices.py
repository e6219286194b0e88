"""Every second-factor event is audited and mails a security notice to the account's owner.

Failures are written in their own committed transaction (the request's is rolled back), the way
failed logins are. Notices never contain codes or secrets, only what happened and what to do.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.audit import service as audit
from app.auth.mfa.repository import ChallengeRepository
from app.email.service import send_email
from app.identity.principal import Principal

_IF_NOT_YOU = "If this was not you, reset your password now and contact support.\n"
SUBJECTS: dict[str, str] = {
    "mfa.totp_enabled": "An authenticator app was added to your account",
    "mfa.totp_disabled": "An authenticator app was removed from your account",
    "mfa.recovery_codes_generated": "New recovery codes were generated for your account",
    "mfa.recovery_code_used": "A recovery code was used on your account",
    "mfa.factor_failed": "A wrong second-factor code was entered for your account",
    "mfa.reset_by_admin": "Your second factors were reset by an administrator",
    "mfa.passkey_added": "A passkey was added to your account",
    "mfa.passkey_removed": "A passkey was removed from your account",
    "mfa.passkey_counter_regressed": (
        "A copy of one of your passkeys was refused: its signature counter went backwards"
    ),
}


async def notify(
    session: AsyncSession,
    action: str,
    *,
    user_id: uuid.UUID,
    email: str,
    outcome: str = "success",
    principal: Principal | None = None,
    details: dict[str, str] | None = None,
) -> None:
    """Audit ``action`` and queue its security mail in ``session``'s transaction."""
    await audit.record(
        session,
        action,
        outcome=outcome,
        principal=principal,
        actor_user_id=None if principal else user_id,
        target_type="user",
        target_id=user_id,
        details=details,
    )
    subject = SUBJECTS[action]
    await send_email(
        session,
        to=email,
        kind="security_notice",
        subject=subject,
        body_text=f"{subject}.\n{_IF_NOT_YOU}",
    )


async def notify_failure(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    user_id: uuid.UUID,
    email: str,
    details: dict[str, str],
    challenge_id: uuid.UUID | None = None,
    mail: bool = True,
    action: str = "mfa.factor_failed",
) -> None:
    """A failed factor, committed on its own: the request that failed rolls back. Also counts
    the failure on the login challenge, if any (five kill it). ``mail=False`` when the password
    was wrong too: step 1 already audited that failed login, and the owner learns nothing.
    ``action`` names a more specific failure (a passkey's counter going backwards)."""
    async with sessionmaker() as session, session.begin():
        if challenge_id is not None:
            await ChallengeRepository(session).count_failure(challenge_id)
        if mail:
            await notify(
                session,
                action,
                user_id=user_id,
                email=email,
                outcome="failure",
                details=details,
            )
