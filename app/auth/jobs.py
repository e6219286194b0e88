"""The accounts feature's worker job: delete credentials that can never authenticate again
(keeps the hot tables small)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.passkeys.repository import CeremonyRepository
from app.auth.repository import HousekeepingRepository
from app.core.jobs import Job, WorkerContext

# Keep revoked/expired sessions a while for "my sessions" forensics and the audit trail.
RETENTION = timedelta(days=30)


async def purge_expired_credentials(session: AsyncSession) -> int:
    now = datetime.now(UTC)
    purged = await HousekeepingRepository(session).purge(now - RETENTION)
    # Passkey prompts live two minutes and are never looked at again once over.
    return purged + await CeremonyRepository(session).purge(now)


async def _purge_in_own_transaction(context: WorkerContext) -> int:
    async with context.sessionmaker() as session, session.begin():
        return await purge_expired_credentials(session)


JOBS = (Job("purge_expired_credentials", _purge_in_own_transaction, every_seconds=600.0),)
