"""What happens to a stored inbound event: one handler per source, run by the worker.

A handler runs inside the transaction that marks the event processed, so its database effects
and the "processed" mark commit together (exactly once), or roll back together and the event is
retried. Features register their source here (``HANDLERS["billing"] = handle_billing``); a
source without a handler gets ``record_only``, which keeps the verified event for audit and
marks it processed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from app.webhooks.inbound.models import InboundWebhookEvent

log = structlog.get_logger()

Handler = Callable[[AsyncSession, InboundWebhookEvent], Awaitable[None]]


async def record_only(_session: AsyncSession, event: InboundWebhookEvent) -> None:
    """Default: the event stays stored (verified, deduplicated); nothing else to do."""
    log.info(
        "inbound webhook processed",
        source=event.source,
        event_type=event.event_type,
        inbound_event_id=str(event.id),
    )


HANDLERS: dict[str, Handler] = {}


def handler_for(source: str) -> Handler:
    return HANDLERS.get(source, record_only)
