"""The orphaned-turn sweeper (worker job ``end_orphaned_turns``, registered in ``app/worker.py``).

A streaming turn's process renews its ``turn_lease`` row every third of
``CHAT_TURN_LEASE_SECONDS``. A lease that passed belongs to a process that died (SIGKILL, OOM, a
lost machine) or to a turn whose ending could not be written (the database was away): this job
claims such rows across workspaces (``FOR UPDATE SKIP LOCKED``, pushed ahead as its own lease),
then ends each turn in a transaction bound to the row's workspace and the conversation's owner
(RLS applies as to any request): ``failed``, ``turn_interrupted``, charged the lease's estimates,
with the ``message.created`` event a normal ending emits. A turn is ended once: whoever ends the
``streaming`` row first (its runner or this job) writes the ending. Worst case from the death to
the ending: the lease plus the job interval (60 s + 5 s by default).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import structlog

from app.chat.accounting import estimate_tokens
from app.chat.persistence import end_orphan
from app.conversations.repository import TurnLeaseRepository
from app.core.error_reporting import report_exception
from app.core.jobs import Job, WorkerContext
from app.identity.repository import PrincipalContextRepository
from app.workspaces.access import AccessibleWorkspaceID

if TYPE_CHECKING:
    import uuid


log = structlog.get_logger()
BATCH = 50
SWEEP_EVERY_SECONDS = 5.0


@dataclass(frozen=True)
class _Orphan:
    message_id: uuid.UUID
    workspace_id: AccessibleWorkspaceID
    user_id: uuid.UUID
    prompt_tokens: int
    completion_tokens: int


async def end_orphaned_turns(context: WorkerContext) -> int:
    """One sweep; returns how many turns it ended."""
    settings, sessionmaker = context.settings, context.sessionmaker
    now = datetime.now(UTC)
    hold = now + timedelta(seconds=settings.chat_turn_lease_seconds)
    async with sessionmaker() as session, session.begin():
        leases = await TurnLeaseRepository(session).claim_expired(now, limit=BATCH, hold_until=hold)
        orphans = [
            _Orphan(
                message_id=lease.message_id,
                workspace_id=AccessibleWorkspaceID(lease.workspace_id),
                user_id=lease.user_id,
                prompt_tokens=lease.prompt_tokens,
                completion_tokens=estimate_tokens(lease.streamed_chars),
            )
            for lease in leases
        ]
    ended = 0
    for orphan in orphans:
        try:
            async with sessionmaker() as session, session.begin():
                await PrincipalContextRepository(session).bind_worker_scope(
                    orphan.workspace_id, user_id=orphan.user_id
                )
                if await end_orphan(
                    session,
                    orphan.workspace_id,
                    orphan.message_id,
                    prompt_tokens=orphan.prompt_tokens,
                    completion_tokens=orphan.completion_tokens,
                ):
                    ended += 1
        except Exception as exc:  # this row comes back when its new lease passes
            log.warning("orphaned turn not ended", error=type(exc).__name__)
            report_exception(exc)
    if ended:
        log.info("orphaned turns ended", count=ended)
    return ended


JOBS = (Job("end_orphaned_turns", end_orphaned_turns, every_seconds=SWEEP_EVERY_SECONDS),)
