"""An endpoint's health: when it is disabled, what happens to its deliveries, how it resumes.

The policy follows what Stripe and Svix document: an endpoint is disabled only after failing
continuously for a long time (``WEBHOOK_DISABLE_AFTER_SECONDS``, 5 days by default, and at least
``WEBHOOK_DISABLE_AFTER_FAILURES`` failed attempts in a row), or at once when it answers
410 Gone. Disabling never drops anything: pending deliveries become ``held``, new events are still
recorded as held for ``WEBHOOK_RETENTION_DAYS``, the workspace owners get an e-mail and the audit
log a row. Enabling the endpoint again queues every held delivery with its original
``webhook-id``, so receivers deduplicate. No transactions here: callers own them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.core.config import Settings
from app.core.metrics import WEBHOOK_DELIVERIES
from app.core.outbound import OutboundRefused
from app.core.outbound.urls import parse_url
from app.email.service import send_email
from app.identity.principal import Principal
from app.webhooks.outbound.models import DeliveryStatus, WebhookEndpoint
from app.webhooks.outbound.repository import DeliveryRepository, EndpointRepository
from app.workspaces.access import AccessibleWorkspaceID

log = structlog.get_logger()

GONE = "gone"
FAILING = "failing"
BY_USER = "disabled_by_user"


def note_outcome(
    settings: Settings, endpoint: WebhookEndpoint, *, success: bool, gone: bool, now: datetime
) -> str | None:
    """Update the failure streak; the reason to disable the endpoint now, if there is one."""
    if success:
        endpoint.consecutive_failures = 0
        endpoint.failing_since = None
        return None
    endpoint.consecutive_failures += 1
    if endpoint.failing_since is None:
        endpoint.failing_since = now
    if not endpoint.enabled:
        return None
    if gone:
        return GONE
    long_enough = now - endpoint.failing_since >= timedelta(
        seconds=settings.webhook_disable_after_seconds
    )
    if long_enough and endpoint.consecutive_failures >= settings.webhook_disable_after_failures:
        return FAILING
    return None


def recording_cutoff(settings: Settings, now: datetime) -> datetime:
    """A disabled endpoint still records events if it was disabled after this."""
    return now - timedelta(days=settings.webhook_retention_days)


async def disable(
    session: AsyncSession,
    settings: Settings,
    ws: AccessibleWorkspaceID,
    endpoint: WebhookEndpoint,
    *,
    reason: str,
    now: datetime,
    status_code: int | None = None,
    principal: Principal | None = None,
) -> int:
    """Stop attempts, hold the pending deliveries; owners hear about an automatic disable.

    Returns how many deliveries were held.
    """
    endpoint.enabled = False
    endpoint.disabled_reason = reason
    endpoint.disabled_at = now
    held = await DeliveryRepository(session).hold_pending(ws, endpoint.id, now)
    details: dict[str, object] = {"reason": reason, "held_deliveries": held}
    if status_code is not None:
        details["status"] = status_code
    await audit.record(
        session,
        "webhook_endpoint.disabled",
        principal=principal,
        workspace_id=ws,
        target_type="webhook_endpoint",
        target_id=endpoint.id,
        details=details,
    )
    if principal is None:
        WEBHOOK_DELIVERIES.labels(outcome="disabled").inc()
        log.warning("webhook endpoint disabled", endpoint_id=str(endpoint.id), reason=reason)
        await _notify_owners(session, settings, ws, endpoint, reason=reason, held=held)
    return held


async def resume(
    session: AsyncSession, ws: AccessibleWorkspaceID, endpoint: WebhookEndpoint, *, now: datetime
) -> int:
    """Enable the endpoint with a clean streak and queue its held deliveries; how many."""
    endpoint.enabled = True
    endpoint.disabled_reason = None
    endpoint.disabled_at = None
    endpoint.consecutive_failures = 0
    endpoint.failing_since = None
    return await DeliveryRepository(session).requeue(
        ws, endpoint.id, statuses=[DeliveryStatus.HELD], due_at=now
    )


def _host(url: str) -> str:
    # Only the host: a receiver URL may carry a token in its path or query.
    try:
        return parse_url(url).host
    except OutboundRefused:  # it passed this parser at registration; be total anyway
        return "(unknown host)"


async def _notify_owners(
    session: AsyncSession,
    settings: Settings,
    ws: AccessibleWorkspaceID,
    endpoint: WebhookEndpoint,
    *,
    reason: str,
    held: int,
) -> None:
    why = (
        "it answered 410 Gone"
        if reason == GONE
        else "every delivery to it has failed for a long time"
    )
    body = (
        f"A webhook endpoint of your Launchproof workspace was disabled because {why}.\n\n"
        f"Endpoint: {endpoint.id} (host {_host(endpoint.url)})\n"
        f"Deliveries kept for it: {held}; new events are kept too, for "
        f"{settings.webhook_retention_days} days.\n\n"
        "Nothing is lost: fix the receiver, then enable the endpoint again; every kept delivery "
        "is sent with its original webhook-id.\n"
        f"{settings.public_url}/\n"
    )
    for address in await EndpointRepository(session).owner_emails(ws):
        await send_email(
            session,
            to=address,
            kind="webhook_endpoint_disabled",
            subject="A webhook endpoint was disabled",
            body_text=body,
        )
