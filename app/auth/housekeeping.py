"""Delete credentials that can never authenticate again (keeps the hot tables small)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.repository import HousekeepingRepository

# Keep revoked/expired sessions a while for "my sessions" forensics and the audit trail.
RETENTION = timedelta(days=30)


async def purge_expired_credentials(session: AsyncSession) -> int:
    return await HousekeepingRepository(session).purge(datetime.now(UTC) - RETENTION)
