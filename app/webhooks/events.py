"""The one entry point other domains use to publish a webhook event: ``emit_event``.

It runs inside the caller's transaction (the outbox pattern): the delivery rows commit or roll
back together with the change that caused them, so a crash between commit and send loses
nothing (the worker finds the rows) and a rolled-back change sends nothing.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import structlog
from sqlalchemy import CTE
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import get_settings
from app.core.repository import Carried
from app.webhooks.fanout.repository import FanOutRepository
from app.webhooks.outbound.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from app.webhooks.outbound.repository import DeliveryRepository, EndpointRepository
from app.workspaces.access import AccessibleWorkspaceID

log = structlog.get_logger()


class EventType(StrEnum):
    CONVERSATION_CREATED = "conversation.created"
    MESSAGE_CREATED = "message.created"
    FILE_SCANNED = "file.scanned"
    MEMBER_ADDED = "member.added"
    # Sent only by "send a test event"; endpoints cannot subscribe to it.
    TEST = "webhook.test"


SUBSCRIBABLE_EVENTS = frozenset(EventType) - {EventType.TEST}
# Keys of ``data`` that carry customer content: sent only to endpoints that opted in
# (``include_content``). Everything else in ``data`` must be ids, types, counts or states.
CONTENT_KEYS = frozenset({"content", "title", "filename"})


def build_payload(
    event_type: EventType,
    data: Mapping[str, object],
    *,
    include_content: bool,
    occurred_at: datetime,
) -> str:
    """The JSON body (Standard Webhooks shape ``{type, timestamp, data}``), content filtered."""
    kept = {key: value for key, value in data.items() if include_content or key not in CONTENT_KEYS}
    body = {"type": event_type.value, "timestamp": occurred_at.isoformat(), "data": kept}
    return json.dumps(body, default=str, separators=(",", ":"), ensure_ascii=False)


async def emit_event(
    session: AsyncSession,
    *,
    workspace_id: uuid.UUID,
    event_type: EventType,
    data: Mapping[str, object],
) -> None:
    """Record ``event_type`` for every endpoint of ``workspace_id`` subscribed to it.

    Enabled endpoints get a queued delivery; one disabled within the retention window gets a held
    delivery (sent when it is enabled again; ``WEBHOOK_RETENTION_DAYS``), so no event is lost
    while a receiver is down.

    Call it from a service, in the transaction of the change that caused the event, after that
    service checked the caller may make the change. The fan-out query is filtered by workspace
    first (and RLS filters it again), so no endpoint receives another workspace's event. ``data``
    holds ids and states; keys in ``CONTENT_KEYS`` reach opted-in endpoints only. Values must be
    JSON-serialisable (UUIDs and datetimes are turned into strings).
    """
    # The caller's transaction already carries this workspace in its RLS context: it is the
    # workspace whose row the caller just changed.
    ws = AccessibleWorkspaceID(workspace_id)
    # A disabled endpoint still records its events (held) during the retention window.
    cutoff = datetime.now(UTC) - timedelta(days=get_settings().webhook_retention_days)
    endpoints = await EndpointRepository(session).subscribed_in(
        ws, event_type.value, disabled_after=cutoff
    )
    await queue_deliveries(session, ws, endpoints, event_type, data)


def event_writes(
    session: AsyncSession,
    *,
    workspace_id: AccessibleWorkspaceID,
    event_type: EventType,
    data: Mapping[str, object],
    gate: CTE | None = None,
) -> Carried:
    """``emit_event`` as writes for the caller's own statement to carry (data-modifying CTEs
    built once, with this event's values; ``FanOutRepository.fan_out``): the same deliveries,
    bodies, states and queue rows, with no statement of its own. ``gate``: only if that CTE of
    the caller's statement has a row. The same contract as ``emit_event``: called after the
    caller's check, in its transaction."""
    now = datetime.now(UTC)
    return FanOutRepository(session).fan_out(
        workspace_id,
        event_type.value,
        payload=build_payload(event_type, data, include_content=True, occurred_at=now),
        payload_without_content=build_payload(
            event_type, data, include_content=False, occurred_at=now
        ),
        disabled_after=now - timedelta(days=get_settings().webhook_retention_days),
        due_at=now,
        gate=gate,
    )


async def queue_deliveries(
    session: AsyncSession,
    workspace_id: AccessibleWorkspaceID,
    endpoints: list[WebhookEndpoint],
    event_type: EventType,
    data: Mapping[str, object],
) -> list[WebhookDelivery]:
    """Write one delivery per endpoint in the caller's transaction: queued for an enabled
    endpoint (and for a test event), held for a disabled one."""
    if not endpoints:
        return []
    now = datetime.now(UTC)
    deliveries = [
        WebhookDelivery(
            id=uuid.uuid4(),
            workspace_id=workspace_id,
            endpoint_id=endpoint.id,
            event_type=event_type.value,
            payload=build_payload(
                event_type, data, include_content=endpoint.include_content, occurred_at=now
            ),
            status=(
                DeliveryStatus.PENDING
                if endpoint.enabled or event_type is EventType.TEST
                else DeliveryStatus.HELD
            ),
        )
        for endpoint in endpoints
    ]
    await DeliveryRepository(session).enqueue(workspace_id, deliveries, due_at=now)
    log.info("webhook event recorded", event_type=event_type.value, deliveries=len(deliveries))
    return deliveries
