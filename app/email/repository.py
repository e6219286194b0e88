"""Outbox rows: claimed with SKIP LOCKED and a lease, then marked sent, retried or failed.

``email_outbox`` is a platform table (no workspace data): these methods take no principal.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update

from app.core.repository import Repository
from app.email.models import EmailStatus, OutboxEmail


class OutboxRepository(Repository[OutboxEmail]):
    model = OutboxEmail

    async def claim_due(
        self, now: datetime, *, lease: timedelta, limit: int
    ) -> Sequence[OutboxEmail]:
        """Lease up to ``limit`` due rows to this worker and count the attempt.

        ``SKIP LOCKED`` lets any number of workers claim concurrently without waiting on each
        other or taking the same row; the lease makes a row whose worker died due again later.
        """
        due = (
            select(OutboxEmail.id)
            .where(
                OutboxEmail.status == EmailStatus.PENDING.value,
                OutboxEmail.next_attempt_at <= now,
                or_(OutboxEmail.locked_until.is_(None), OutboxEmail.locked_until < now),
            )
            .order_by(OutboxEmail.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        statement = (
            update(OutboxEmail)
            .where(OutboxEmail.id.in_(due.scalar_subquery()))
            .values(attempts=OutboxEmail.attempts + 1, locked_until=now + lease)
            .returning(OutboxEmail)
            .execution_options(synchronize_session=False)
        )
        result = await self.session.execute(statement)
        return result.scalars().all()

    async def mark_sent(self, email_id: uuid.UUID, now: datetime) -> None:
        await self.session.execute(
            update(OutboxEmail)
            .where(OutboxEmail.id == email_id)
            .values(status=EmailStatus.SENT.value, sent_at=now, locked_until=None, last_error=None)
        )

    async def schedule_retry(self, email_id: uuid.UUID, at: datetime, error: str) -> None:
        await self.session.execute(
            update(OutboxEmail)
            .where(OutboxEmail.id == email_id)
            .values(next_attempt_at=at, locked_until=None, last_error=error[:200])
        )

    async def release(self, email_id: uuid.UUID) -> None:
        """Give back a claimed row that was not attempted (its claim counted an attempt)."""
        await self.session.execute(
            update(OutboxEmail)
            .where(OutboxEmail.id == email_id)
            .values(locked_until=None, attempts=OutboxEmail.attempts - 1)
        )

    async def mark_failed(self, email_id: uuid.UUID, error: str) -> None:
        await self.session.execute(
            update(OutboxEmail)
            .where(OutboxEmail.id == email_id)
            .values(status=EmailStatus.FAILED.value, locked_until=None, last_error=error[:200])
        )

    async def pending_stats(self, now: datetime) -> tuple[int, float]:
        """(rows waiting, age in seconds of the oldest due one) for the queue gauges."""
        row = (
            await self.session.execute(
                select(func.count(), func.min(OutboxEmail.next_attempt_at)).where(
                    OutboxEmail.status == EmailStatus.PENDING.value
                )
            )
        ).one()
        oldest: datetime | None = row[1]
        lag = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
        return int(row[0]), lag
