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

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.config import Settings
from app.core.error_reporting import report_exception
from app.core.jobs import Job, WorkerContext
from app.core.metrics import WEBHOOK_DELIVERIES, WEBHOOK_QUEUE_DEPTH, WEBHOOK_QUEUE_LAG
from app.identity.repository import PrincipalContextRepository
from app.webhooks.events import EventType
from app.webhooks.inbound import service as inbound_service
from app.webhooks.outbound import lifecycle
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

log = structlog.get_logger()
Sessionmaker = async_sessionmaker[AsyncSession]


@dataclass(frozen=True, slots=True)
class _Prepared:
    url: str
    body: str
    secrets: tuple[str, ...]


# The attempt recorded when a delivery raised something unexpected (a bug, not the receiver).
CRASH_OUTCOME = "error:internal"

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
                # The class only: a traceback's locals would hold the secret and the payload.
                log.error(
                    "webhook delivery crashed",
                    delivery_id=str(item.delivery_id),
                    error=type(exc).__name__,
                )
                report_exception(exc)
                return await _record_crash(settings, sessionmaker, item, lease_until)

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
        if not endpoint.enabled and delivery.event_type != EventType.TEST:
            # Disabled after this was queued: keep it, unqueued, until the endpoint is enabled.
            delivery.status = DeliveryStatus.HELD
            await QueueRepository(session).finish(item.delivery_id, lease_until)
            return None
        reason = None
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
        found = await DeliveryRepository(session).get_with_endpoint(ws, item.delivery_id, lock=True)
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
        delivery.attempts += 1
        delivery.last_status_code = result.status_code
        success = result.outcome is Outcome.SUCCESS
        metric = (
            "success" if success else "refused" if result.outcome is Outcome.REFUSED else "failure"
        )
        WEBHOOK_DELIVERIES.labels(outcome=metric).inc()
        disable_reason = lifecycle.note_outcome(
            settings, endpoint, success=success, gone=result.outcome is Outcome.GONE, now=now
        )
        if success:
            status: DeliveryStatus | None = DeliveryStatus.SUCCEEDED
        elif disable_reason or not endpoint.enabled:
            status = DeliveryStatus.HELD  # the endpoint is (being) disabled: keep it
        elif delivery.attempts >= settings.webhook_max_attempts:
            status = DeliveryStatus.FAILED  # kept; recover queues it again
        else:
            status = None
        if not await _release(
            session, settings, item, lease_until, status, delivery.attempts, result
        ):
            log.warning("webhook lease lost", delivery_id=str(delivery.id))
            return  # another worker took the delivery over; it records its own outcome
        if status is not None:
            delivery.status = status
            delivery.completed_at = now if status is not DeliveryStatus.HELD else None
        if disable_reason is not None:
            await lifecycle.disable(
                session,
                settings,
                ws,
                endpoint,
                reason=disable_reason,
                now=now,
                status_code=result.status_code,
            )
        await session.flush()


async def _release(
    session: AsyncSession,
    settings: Settings,
    item: ClaimedDelivery,
    lease_until: datetime,
    status: DeliveryStatus | None,
    attempts: int,
    result: AttemptResult,
) -> bool:
    """Remove the queue row (final or held) or reschedule it; False when our lease was lost."""
    queue = QueueRepository(session)
    if status is not None:
        return await queue.finish(item.delivery_id, lease_until)
    due = datetime.now(UTC) + timedelta(
        seconds=backoff_seconds(settings, attempts, result.retry_after_seconds)
    )
    return await queue.reschedule(item.delivery_id, lease_until, due)


async def _record_crash(
    settings: Settings, sessionmaker: Sessionmaker, item: ClaimedDelivery, lease_until: datetime
) -> int:
    """Record an unexpected failure as an attempt and back off, so no delivery loops forever
    unrecorded; 1 when recorded. If even this fails, the lease expires and a later round
    retries the delivery."""
    try:
        async with sessionmaker() as session, session.begin():
            ws = await _bind(session, item.workspace_id)
            found = await DeliveryRepository(session).get_with_endpoint(ws, item.delivery_id)
            if found is None:
                return 0
            delivery, _endpoint = found
            await AttemptRepository(session).add_attempt(ws, delivery.id, outcome=CRASH_OUTCOME)
            delivery.attempts += 1
            WEBHOOK_DELIVERIES.labels(outcome="failure").inc()
            queue = QueueRepository(session)
            if delivery.attempts >= settings.webhook_max_attempts:
                if await queue.finish(item.delivery_id, lease_until):
                    delivery.status = DeliveryStatus.FAILED
                    delivery.completed_at = datetime.now(UTC)
            else:
                due = datetime.now(UTC) + timedelta(
                    seconds=backoff_seconds(settings, delivery.attempts, None)
                )
                await queue.reschedule(item.delivery_id, lease_until, due)
            await session.flush()
    except Exception as exc:  # the database itself may be what failed
        log.error("webhook crash not recorded", error=type(exc).__name__)
        report_exception(exc)
        return 0
    return 1


async def process_inbound_webhooks(context: WorkerContext) -> int:
    """One batch of stored inbound events, processed and marked in one transaction.

    Handler effects and the "processed" mark commit together: a worker killed mid-batch rolls
    both back and the events are found again, none processed twice.
    """
    async with context.sessionmaker() as session, session.begin():
        return await inbound_service.process_batch(session, datetime.now(UTC))


# Signed outgoing deliveries; verified inbound events.
JOBS = (
    Job("deliver_webhooks", deliver_webhooks, every_seconds=1.0),
    Job("process_inbound_webhooks", process_inbound_webhooks, every_seconds=1.0),
)
