"""Every statement about second factors. Each method takes the owning user id (no RLS here:
these rows belong to one person, like sessions), so no call reaches another user's factors."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select, update

from app.auth.mfa.models import LoginChallenge, RecoveryCode, TotpFactor
from app.core.repository import Repository
from app.identity.models import User, UserSession

# Wrong factors one login challenge absorbs before it is dead (the rate limits bound the rest).
MAX_CHALLENGE_FAILURES = 5


class FactorRepository(Repository[TotpFactor]):
    model = TotpFactor

    async def totp_of(self, user_id: uuid.UUID) -> TotpFactor | None:
        return await self.get_one_or_none(select(TotpFactor).where(TotpFactor.user_id == user_id))

    async def claim_totp_step(self, user_id: uuid.UUID, step: int) -> bool:
        """Record ``step`` as used if it is later than the last used one; atomic, so two
        requests presenting the same code cannot both succeed."""
        result = await self.session.execute(
            update(TotpFactor)
            .where(
                TotpFactor.user_id == user_id,
                TotpFactor.confirmed_at.is_not(None),
                (TotpFactor.last_used_step.is_(None)) | (TotpFactor.last_used_step < step),
            )
            .values(last_used_step=step)
        )
        return bool(getattr(result, "rowcount", 0))

    async def store_totp_secret(self, factor_id: uuid.UUID, encrypted: bytes) -> None:
        await self.session.execute(
            update(TotpFactor).where(TotpFactor.id == factor_id).values(secret_encrypted=encrypted)
        )

    async def delete_totp(self, user_id: uuid.UUID) -> None:
        await self.session.execute(delete(TotpFactor).where(TotpFactor.user_id == user_id))

    async def replace_recovery_codes(self, user_id: uuid.UUID, hashes: Sequence[bytes]) -> None:
        await self.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
        self.session.add_all(
            RecoveryCode(id=uuid.uuid4(), user_id=user_id, code_hash=h) for h in hashes
        )
        await self.session.flush()

    async def consume_recovery_code(
        self, user_id: uuid.UUID, hashes: Sequence[bytes], now: datetime
    ) -> bool:
        result = await self.session.execute(
            update(RecoveryCode)
            .where(
                RecoveryCode.user_id == user_id,
                RecoveryCode.code_hash.in_(list(hashes)),
                RecoveryCode.used_at.is_(None),
            )
            .values(used_at=now)
        )
        return bool(getattr(result, "rowcount", 0))

    async def recovery_codes_left(self, user_id: uuid.UUID) -> int:
        count = await self.session.scalar(
            select(func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))
        )
        return int(count or 0)

    async def delete_all(self, user_id: uuid.UUID) -> None:
        """Every factor and recovery code of the user (admin reset)."""
        for model in (TotpFactor, RecoveryCode):
            await self.session.execute(delete(model).where(model.user_id == user_id))

    async def set_enrolled(self, user_id: uuid.UUID, at: datetime | None) -> None:
        """``user_account.second_factor_at``: read by every session lookup (two-step login,
        staff policy, step-up) without a join."""
        await self.session.execute(
            update(User).where(User.id == user_id).values(second_factor_at=at)
        )

    async def mark_session_verified(
        self, user_id: uuid.UUID, session_id: uuid.UUID, now: datetime
    ) -> None:
        await self.session.execute(
            update(UserSession)
            .where(UserSession.id == session_id, UserSession.user_id == user_id)
            .values(factor_verified_at=now)
        )


class ChallengeRepository(Repository[LoginChallenge]):
    model = LoginChallenge

    async def live(self, hashes: Sequence[bytes], now: datetime) -> LoginChallenge | None:
        return await self.get_one_or_none(
            select(LoginChallenge).where(
                LoginChallenge.token_hash.in_(list(hashes)),
                LoginChallenge.used_at.is_(None),
                LoginChallenge.expires_at > now,
                LoginChallenge.failed_attempts < MAX_CHALLENGE_FAILURES,
            )
        )

    async def consume(self, challenge_id: uuid.UUID, now: datetime) -> bool:
        """Single use: only the first of two concurrent completions wins."""
        result = await self.session.execute(
            update(LoginChallenge)
            .where(LoginChallenge.id == challenge_id, LoginChallenge.used_at.is_(None))
            .values(used_at=now)
        )
        return bool(getattr(result, "rowcount", 0))

    async def count_failure(self, challenge_id: uuid.UUID) -> None:
        await self.session.execute(
            update(LoginChallenge)
            .where(LoginChallenge.id == challenge_id)
            .values(failed_attempts=LoginChallenge.failed_attempts + 1)
        )

    async def purge(self, before: datetime) -> int:
        result = await self.session.execute(
            delete(LoginChallenge).where(LoginChallenge.expires_at < before)
        )
        return int(getattr(result, "rowcount", 0) or 0)
