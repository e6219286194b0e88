"""The outbox delivery job: claim due rows, sign and send with no transaction open, record.

A mail-server outage loses nothing: a failed attempt leaves the row pending with a later
``next_attempt_at`` (exponential backoff, capped). Only a permanent refusal (5xx) marks it failed
at once, and EMAIL_MAX_ATTEMPTS bounds the other failures *about the message* (a relay that
answers 4xx, a message that cannot be built). An unreachable relay (refused, reset, timed out,
421) is the relay's outage: it never counts, however long it lasts, and it defers the rest of
the batch without trying each row. Delivery is at-least-once: a worker that dies after the relay
accepted a message but before the mark sends it again after the lease, with the same Message-ID.
A batch never outlives its lease: rows it could not reach in time are given back untried, so
another worker never sends a row this one is still sending. Logs name the row id, kind and error
class; never an address, subject or body.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import structlog

from app.core.jobs import Job, WorkerContext
from app.core.metrics import EMAIL_DELIVERIES, EMAIL_QUEUE_DEPTH, EMAIL_QUEUE_LAG
from app.email import smtp
from app.email.message import (
    build_message,
    envelope_sender,
    new_message_id,
    signer_from_settings,
)
from app.email.repository import OutboxRepository

log = structlog.get_logger()


def backoff_seconds(attempts: int, base: float, ceiling: float) -> float:
    """base, 2*base, 4*base, ... capped at ``ceiling`` (attempts counts the one just made)."""
    exponent = min(max(attempts - 1, 0), 30)
    return float(min(base * 2**exponent, ceiling))


async def deliver_outbox(context: WorkerContext) -> int:
    """One round: returns how many messages were handed to the relay. No SMTP_URL: no-op."""
    settings = context.settings
    if settings.smtp_url is None:
        return 0
    target = smtp.parse_smtp_url(settings.smtp_url.get_secret_value())
    signer = signer_from_settings(settings)
    now = datetime.now(UTC)
    async with context.sessionmaker() as session, session.begin():
        rows = await OutboxRepository(session).claim_due(
            now,
            lease=timedelta(seconds=settings.email_lease_seconds),
            limit=settings.email_batch_size,
        )
        for row in rows:
            if row.message_id is None:
                row.message_id = new_message_id(settings)
        claimed = [
            (
                row.id,
                row.kind,
                row.attempts,
                row.to_address,
                row.subject,
                row.body_text,
                row.message_id,
                row.created_at,
            )
            for row in rows
        ]
    sent = tried = 0
    relay_down: Exception | None = None
    # The last send must finish (or time out) before the lease ends.
    deadline = time.monotonic() + settings.email_lease_seconds - settings.smtp_timeout_seconds
    for email_id, kind, attempts, to, subject, body, message_id, created_at in claimed:
        assert message_id is not None
        if relay_down is not None:  # the relay is down: this row waits like the first one
            await _record_failure(context, email_id, kind, attempts, relay_down)
            continue
        if tried and time.monotonic() > deadline:
            await _release(context, email_id)
            continue
        tried += 1
        try:
            raw = build_message(
                settings,
                to=to,
                subject=subject,
                body_text=body,
                message_id=message_id,
                created_at=created_at,
            )
            if signer is not None:
                raw = signer.sign(raw)
            await smtp.deliver(
                target,
                raw,
                sender=envelope_sender(settings),
                recipient=to,
                timeout_seconds=settings.smtp_timeout_seconds,
            )
        except Exception as exc:  # any failure: record it and retry later, never lose the row
            await _record_failure(context, email_id, kind, attempts, exc)
            if smtp.relay_unavailable(exc):
                relay_down = exc
            continue
        async with context.sessionmaker() as session, session.begin():
            await OutboxRepository(session).mark_sent(email_id, datetime.now(UTC))
        EMAIL_DELIVERIES.labels(outcome="sent").inc()
        sent += 1
    await _update_queue_gauges(context)
    return sent


async def _record_failure(
    context: WorkerContext, email_id: uuid.UUID, kind: str, attempts: int, exc: Exception
) -> None:
    settings = context.settings
    error = smtp.error_label(exc)
    async with context.sessionmaker() as session, session.begin():
        repo = OutboxRepository(session)
        gives_up = not smtp.relay_unavailable(exc) and attempts >= settings.email_max_attempts
        if smtp.is_permanent(exc) or gives_up:
            await repo.mark_failed(email_id, error)
            outcome = "failed"
        else:
            delay = backoff_seconds(
                attempts, settings.email_retry_base_seconds, settings.email_retry_max_seconds
            )
            await repo.schedule_retry(email_id, datetime.now(UTC) + timedelta(seconds=delay), error)
            outcome = "retry"
    EMAIL_DELIVERIES.labels(outcome=outcome).inc()
    log.warning(
        "email delivery failed",
        email_id=str(email_id),
        kind=kind,
        attempts=attempts,
        error=error,
        outcome=outcome,
    )


async def _release(context: WorkerContext, email_id: uuid.UUID) -> None:
    async with context.sessionmaker() as session, session.begin():
        await OutboxRepository(session).release(email_id)


async def _update_queue_gauges(context: WorkerContext) -> None:
    async with context.sessionmaker() as session, session.begin():
        depth, lag = await OutboxRepository(session).pending_stats(datetime.now(UTC))
    EMAIL_QUEUE_DEPTH.set(depth)
    EMAIL_QUEUE_LAG.set(lag)


# Platform e-mail: sign and send due outbox rows over SMTP_URL (no-op when unset).
JOBS = (Job("deliver_email", deliver_outbox, every_seconds=2.0),)
