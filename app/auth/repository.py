"""The accounts feature's own tables: one-time tokens (e-mail verification, password reset) and
the housekeeping that purges dead sessions and tokens."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, update

from app.auth.models import OneTimeToken, TokenPurpose
from app.core.repository import Repository
from app.identity.models import UserSession


class OneTimeTokenRepository(Repository[OneTimeToken]):
    model = OneTimeToken

    async def consume(
        self, token_hashes: Sequence[bytes], purpose: TokenPurpose, now: datetime
    ) -> OneTimeToken | None:
        """Mark a live token used and return it; atomic, so a token works exactly once.

        ``token_hashes``: the token under each key of the SECRET_KEY ring (a link mailed before a
        rotation still works until it expires).
        """
        statement = (
            update(OneTimeToken)
            .where(
                OneTimeToken.token_hash.in_(list(token_hashes)),
                OneTimeToken.purpose == purpose,
                OneTimeToken.used_at.is_(None),
                OneTimeToken.expires_at > now,
            )
            .values(used_at=now)
            .returning(OneTimeToken)
        )
        return (await self.session.execute(statement)).scalars().one_or_none()

    async def invalidate_for_user(
        self, user_id: uuid.UUID, purpose: TokenPurpose, now: datetime
    ) -> None:
        await self.session.execute(
            update(OneTimeToken)
            .where(
                OneTimeToken.user_id == user_id,
                OneTimeToken.purpose == purpose,
                OneTimeToken.used_at.is_(None),
            )
            .values(used_at=now)
        )


class HousekeepingRepository(Repository[UserSession]):
    model = UserSession

    async def purge(self, before: datetime) -> int:
        """Delete sessions and one-time tokens dead since before ``before``."""
        sessions = await self.session.execute(
            delete(UserSession).where(
                (UserSession.absolute_expires_at < before)
                | (UserSession.revoked_at < before)
                | (UserSession.idle_expires_at < before)
            )
        )
        tokens = await self.session.execute(
            delete(OneTimeToken).where(
                (OneTimeToken.expires_at < before) | (OneTimeToken.used_at < before)
            )
        )
        return int(getattr(sessions, "rowcount", 0) or 0) + int(getattr(tokens, "rowcount", 0) or 0)
