"""Delete credentials that can never authenticate again (keeps the hot tables small)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.passkeys.repository import CeremonyRepository
from app.auth.repository import HousekeepingRepository

# Keep revoked/expired sessions a while for "my sessions" forensics and the audit trail.
RETENTION = timedelta(days=30)


async def purge_expired_credentials(session: AsyncSession) -> int:
    now = datetime.now(UTC)
    purged = await HousekeepingRepository(session).purge(now - RETENTION)
    # Passkey prompts live two minutes and are never looked at again once over.
    return purged + await CeremonyRepository(session).purge(now)
