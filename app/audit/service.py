"""Record security events in the audit trail, inside the request's transaction.

Events carry ids, outcomes, the trusted client IP and the request id: never passwords, tokens,
message text or e-mail addresses (``details`` takes only the small, non-secret facts callers pass).
A failed login is recorded in its own short transaction, since the request's is rolled back.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.audit.models import AuditEvent
from app.audit.repository import AuditEventRepository
from app.core.request_context import current_client_ip, current_request_id
from app.identity.principal import Principal


def _event(
    action: str,
    outcome: str,
    *,
    principal: Principal | None,
    actor_user_id: uuid.UUID | None,
    workspace_id: uuid.UUID | None,
    target_type: str | None,
    target_id: uuid.UUID | None,
    details: dict[str, Any] | None,
) -> AuditEvent:
    return AuditEvent(
        id=uuid.uuid4(),
        action=action,
        outcome=outcome,
        actor_user_id=principal.user_id if principal else actor_user_id,
        actor_api_key_id=principal.api_key_id if principal else None,
        workspace_id=workspace_id,
        target_type=target_type,
        target_id=target_id,
        client_ip=current_client_ip(),
        request_id=current_request_id(),
        details=details or {},
    )


async def record(
    session: AsyncSession,
    action: str,
    *,
    outcome: str = "success",
    principal: Principal | None = None,
    actor_user_id: uuid.UUID | None = None,
    workspace_id: uuid.UUID | None = None,
    target_type: str | None = None,
    target_id: uuid.UUID | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    await AuditEventRepository(session).create(
        _event(
            action,
            outcome,
            principal=principal,
            actor_user_id=actor_user_id,
            workspace_id=workspace_id,
            target_type=target_type,
            target_id=target_id,
            details=details,
        ),
        flush=False,
    )


async def record_detached(
    sessionmaker: async_sessionmaker[AsyncSession],
    action: str,
    *,
    outcome: str,
    actor_user_id: uuid.UUID | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Record in a separate committed transaction (for events whose request fails)."""
    async with sessionmaker() as session, session.begin():
        await record(session, action, outcome=outcome, actor_user_id=actor_user_id, details=details)
