from __future__ import annotations

from sqlalchemy import select

from app.audit.models import AuditEvent
from app.core.pagination import PageParams
from app.core.repository import PageResult, Repository


class AuditEventRepository(Repository[AuditEvent]):
    """Append and (staff only, enforced by RLS too) read security events."""

    model = AuditEvent

    async def list_page(self, params: PageParams, *, action: str | None) -> PageResult[AuditEvent]:
        statement = select(AuditEvent)
        if action is not None:
            statement = statement.where(AuditEvent.action == action)
        return await self.paginate(statement, params, created_column=AuditEvent.occurred_at)
