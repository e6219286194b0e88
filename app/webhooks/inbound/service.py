"""Storing verified inbound events (request side) and processing them (worker side)."""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.error_reporting import report_exception
from app.webhooks.inbound.handlers import handler_for
from app.webhooks.inbound.repository import InboundEventRepository
from app.webhooks.inbound.schemas import InboundAccepted
from app.webhooks.inbound.verification import VerifiedEvent

log = structlog.get_logger()
BATCH = 50
MAX_PROCESS_ATTEMPTS = 10
RETRY_BASE_SECONDS = 5.0


async def store_event(session: AsyncSession, event: VerifiedEvent) -> InboundAccepted:
    """Store a verified event once per ``(source, webhook-id)``; a replay is acknowledged only."""
    inserted = await InboundEventRepository(session).insert_once(
        source=event.source,
        webhook_id=event.webhook_id,
        event_type=event.event_type,
        payload=event.body,
    )
    if inserted is None:
        log.info("inbound webhook duplicate", source=event.source)
        return InboundAccepted(status="duplicate")
    log.info("inbound webhook accepted", source=event.source, event_type=event.event_type)
    return InboundAccepted(status="accepted")


async def process_batch(session: AsyncSession, now: datetime) -> int:
    """Process one batch of stored events in the caller's transaction; returns how many."""
    done = 0
    repository = InboundEventRepository(session)
    for event in await repository.claim_unprocessed(now, BATCH):
        event.process_attempts += 1
        try:
            async with session.begin_nested():
                await handler_for(event.source)(session, event)
        except Exception as exc:  # a failing handler must not block the others
            report_exception(exc)
            event.last_error = type(exc).__name__[:200]
            if event.process_attempts >= MAX_PROCESS_ATTEMPTS:
                event.processed_at = now  # gave up: kept with last_error for inspection
                log.warning("inbound webhook failed permanently", source=event.source)
            else:
                delay = RETRY_BASE_SECONDS * 2 ** (event.process_attempts - 1)
                event.locked_until = now + timedelta(seconds=delay)
            continue
        event.processed_at = now
        event.locked_until = None
        event.last_error = None
        done += 1
    await session.flush()
    return done
