"""The webhook worker jobs (registered in ``app/worker.py``): outgoing deliveries, inbound events.

``deliver_webhooks`` claims due queue rows with ``FOR UPDATE SKIP LOCKED`` in one short
transaction that also sets a lease (``locked_until``), commits, then handles each delivery:
load it in a transaction bound to its one workspace (RLS), send with no transaction open, record
the attempt in another bound transaction, and release the lease (reschedule or remove the queue
row) only if it still holds it. A worker killed mid-batch leaves leased rows that any worker
retries once the lease expires: at-least-once, with the same ``webhook-id`` so receivers dedupe.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.audit import service as audit
from app.auth.repository import PrincipalContextRepository
from app.core.config import Settings
from app.core.error_reporting import report_exception
from app.core.metrics import WEBHOOK_DELIVERIES, WEBHOOK_QUEUE_DEPTH, WEBHOOK_QUEUE_LAG
from app.webhooks.events import EventType
from app.webhooks.inbound import service as inbound_service
from app.webhooks.outbound.delivery import AttemptResult, Outcome, attempt, backoff_seconds
from app.webhooks.outbound.models import DeliveryStatus
from app.webhooks.outbound.repository import (
    AttemptRepository,
    ClaimedDelivery,
    DeliveryRepository,
    QueueRepository,
)
from app.webhooks.outbound.secrets import SecretUnavailable, decrypt_secret, stale_encryption
from app.webhooks.outbound.signing import message_id
from app.workspaces.access import AccessibleWorkspaceID

if TYPE_CHECKING:
    from app.worker import WorkerContext

log = structlog.get_logger()
Sessionmaker = async_sessionmaker[AsyncSession]


@dataclass(frozen=True, slots=True)
class _Prepared:
    url: str
    body: str
    secrets: tuple[str, ...]


# One job run keeps claiming full batches for at most this long, so a backlog drains at the
# receivers' pace rather than one batch per job interval, and other jobs still get their turn.
ROUND_BUDGET_SECONDS = 5.0


async def deliver_webhooks(context: WorkerContext) -> int:
    """Claim and deliver batches until the queue has no due rows or the round budget is spent."""
    settings, sessionmaker = context.settings, context.sessionmaker
    started = time.monotonic()
    total = 0
    while True:
        attempted, claimed = await _deliver_batch(settings, sessionmaker)
        total += attempted
        if claimed < settings.webhook_batch_size:
            return total
        if time.monotonic() - started > ROUND_BUDGET_SECONDS:
            return total


async def _deliver_batch(settings: Settings, sessionmaker: Sessionmaker) -> tuple[int, int]:
    """One batch: claim with a lease, deliver with bounded concurrency; (attempts, claimed)."""
    now = datetime.now(UTC)
    lease_until = now + timedelta(seconds=settings.webhook_lease_seconds)
    async with sessionmaker() as session, session.begin():
        queue = QueueRepository(session)
        depth, lag = await queue.stats(now)
        claimed = await queue.claim_due(now, settings.webhook_batch_size, lease_until)
    WEBHOOK_QUEUE_DEPTH.set(depth)
    WEBHOOK_QUEUE_LAG.set(lag)
    if not claimed:
        return 0, 0
    limit = asyncio.Semaphore(settings.webhook_concurrency)

    async def one(item: ClaimedDelivery) -> int:
        async with limit:
            try:
                return await _deliver_one(settings, sessionmaker, item, lease_until)
            except Exception as exc:  # one broken delivery must not abandon the batch
                log.exception("webhook delivery crashed", delivery_id=str(item.delivery_id))
                report_exception(exc)
                return 0  # its lease expires and another round retries it

    results = await asyncio.gather(*(one(item) for item in claimed))
    return sum(results), len(claimed)


async def _bind(session: AsyncSession, workspace_id: uuid.UUID) -> AccessibleWorkspaceID:
    await PrincipalContextRepository(session).bind_worker_scope(workspace_id)
    # The job acts for this one workspace only: the queue row names it, RLS is bound to it.
    return AccessibleWorkspaceID(workspace_id)


async def _prepare(
    settings: Settings, sessionmaker: Sessionmaker, item: ClaimedDelivery, lease_until: datetime
) -> _Prepared | None:
    """Load what to send; finish (without sending) deliveries that must not go out."""
    async with sessionmaker() as session, session.begin():
        ws = await _bind(session, item.workspace_id)
        found = await DeliveryRepository(session).get_with_endpoint(ws, item.delivery_id)
        if found is None:  # deleted with its endpoint meanwhile
            await QueueRepository(session).finish(item.delivery_id, lease_until)
            return None
        delivery, endpoint = found
        reason = None
        if not endpoint.enabled and delivery.event_type != EventType.TEST:
            reason = "endpoint_disabled"
        secrets: list[str] = []
        try:
            secrets.append(decrypt_secret(settings, endpoint.secret_encrypted))
            refreshed = stale_encryption(settings, endpoint.secret_encrypted)
            if refreshed is not None:  # an older key encrypted it: move it to the newest
                endpoint.secret_encrypted = refreshed
            expires = endpoint.previous_secret_expires_at
            if (
                endpoint.previous_secret_encrypted is not None
                and expires
                and expires > datetime.now(UTC)
            ):
                secrets.append(decrypt_secret(settings, endpoint.previous_secret_encrypted))
        except SecretUnavailable:
            log.error("webhook secret undecryptable", endpoint_id=str(endpoint.id))
            reason = "secret_unavailable"
        if reason is not None:
            delivery.status = DeliveryStatus.FAILED
            delivery.completed_at = datetime.now(UTC)
            await AttemptRepository(session).add_attempt(ws, delivery.id, outcome=reason)
            await QueueRepository(session).finish(item.delivery_id, lease_until)
            WEBHOOK_DELIVERIES.labels(outcome="disabled").inc()
            return None
        return _Prepared(url=endpoint.url, body=delivery.payload, secrets=tuple(secrets))


async def _deliver_one(
    settings: Settings, sessionmaker: Sessionmaker, item: ClaimedDelivery, lease_until: datetime
) -> int:
    prepared = await _prepare(settings, sessionmaker, item, lease_until)
    if prepared is None:
        return 0
    result = await attempt(
        settings,
        url=prepared.url,
        msg_id=message_id(item.delivery_id),
        body=prepared.body,
        secrets=prepared.secrets,
    )
    await _record(settings, sessionmaker, item, lease_until, result)
    return 1


async def _record(
    settings: Settings,
    sessionmaker: Sessionmaker,
    item: ClaimedDelivery,
    lease_until: datetime,
    result: AttemptResult,
) -> None:
    now = datetime.now(UTC)
    async with sessionmaker() as session, session.begin():
        ws = await _bind(session, item.workspace_id)
        deliveries = DeliveryRepository(session)
        found = await deliveries.get_with_endpoint(ws, item.delivery_id)
        if found is None:
            return
        delivery, endpoint = found
        await AttemptRepository(session).add_attempt(
            ws,
            delivery.id,
            outcome=f"{result.outcome.value}:{result.detail}"[:32],
            status_code=result.status_code,
            duration_ms=result.duration_ms,
            response_snippet=result.snippet,
        )
        queue = QueueRepository(session)
        delivery.attempts += 1
        delivery.last_status_code = result.status_code
        success = result.outcome is Outcome.SUCCESS
        metric = (
            "success" if success else "refused" if result.outcome is Outcome.REFUSED else "failure"
        )
        WEBHOOK_DELIVERIES.labels(outcome=metric).inc()
        if success:
            endpoint.consecutive_failures = 0
        else:
            endpoint.consecutive_failures += 1
        disable = result.outcome is Outcome.GONE or (
            endpoint.enabled
            and endpoint.consecutive_failures >= settings.webhook_disable_after_failures
        )
        final = success or disable or delivery.attempts >= settings.webhook_max_attempts
        if final:
            if not await queue.finish(item.delivery_id, lease_until):
                log.warning("webhook lease lost", delivery_id=str(delivery.id))
                return  # another worker took the delivery over; it records its own outcome
            delivery.status = DeliveryStatus.SUCCEEDED if success else DeliveryStatus.FAILED
            delivery.completed_at = now
        else:
            due = now + timedelta(
                seconds=backoff_seconds(settings, delivery.attempts, result.retry_after_seconds)
            )
            if not await queue.reschedule(item.delivery_id, lease_until, due):
                log.warning("webhook lease lost", delivery_id=str(delivery.id))
                return
        if disable and endpoint.enabled:
            endpoint.enabled = False
            endpoint.disabled_reason = "gone" if result.outcome is Outcome.GONE else "failing"
            WEBHOOK_DELIVERIES.labels(outcome="disabled").inc()
            log.warning(
                "webhook endpoint disabled",
                endpoint_id=str(endpoint.id),
                reason=endpoint.disabled_reason,
            )
            await audit.record(
                session,
                "webhook_endpoint.disabled",
                workspace_id=ws,
                target_type="webhook_endpoint",
                target_id=endpoint.id,
                details={"reason": endpoint.disabled_reason, "status": result.status_code},
            )
        await session.flush()


async def process_inbound_webhooks(context: WorkerContext) -> int:
    """One batch of stored inbound events, processed and marked in one transaction.

    Handler effects and the "processed" mark commit together: a worker killed mid-batch rolls
    both back and the events are found again, none processed twice.
    """
    async with context.sessionmaker() as session, session.begin():
        return await inbound_service.process_batch(session, datetime.now(UTC))
