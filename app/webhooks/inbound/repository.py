"""SQL for the inbound event store (a platform table: see its model)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.dialects.postgresql import insert

from app.core.repository import Repository
from app.webhooks.inbound.models import InboundWebhookEvent


class InboundEventRepository(Repository[InboundWebhookEvent]):
    model = InboundWebhookEvent

    async def insert_once(
        self, *, source: str, webhook_id: str, event_type: str, payload: str
    ) -> uuid.UUID | None:
        """Store the event unless ``(source, webhook_id)`` exists; None for a duplicate.

        One atomic ``INSERT ... ON CONFLICT DO NOTHING``: of any number of concurrent copies,
        exactly one inserts, the others see the conflict (after the first commits) and get None.
        """
        result = await self.session.execute(
            insert(InboundWebhookEvent)
            .values(
                id=uuid.uuid4(),
                source=source,
                webhook_id=webhook_id,
                event_type=event_type,
                payload=payload,
                process_attempts=0,
            )
            .on_conflict_do_nothing(constraint="uq_inbound_webhook_event")
            .returning(InboundWebhookEvent.id)
        )
        return result.scalar_one_or_none()

    async def claim_unprocessed(self, now: datetime, limit: int) -> list[InboundWebhookEvent]:
        """Lock due, unprocessed events for this transaction (``FOR UPDATE SKIP LOCKED``).

        The caller processes them and marks them processed in the same transaction: a worker
        that dies mid-batch rolls back both, and the events are found again, none done twice.
        ``locked_until`` is the not-before time of a retry after a handler failure.
        """
        return list(
            await self.get_all(
                select(InboundWebhookEvent)
                .where(
                    InboundWebhookEvent.processed_at.is_(None),
                    or_(
                        InboundWebhookEvent.locked_until.is_(None),
                        InboundWebhookEvent.locked_until <= now,
                    ),
                )
                .order_by(InboundWebhookEvent.received_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )

    async def count_unprocessed(self) -> int:
        result = await self.session.execute(
            select(func.count()).where(InboundWebhookEvent.processed_at.is_(None))
        )
        return int(result.scalar_one())
