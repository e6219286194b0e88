"""Platform staff operations. Callers hold a ``StaffPrincipal`` (session + is_staff)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.admin.schemas import AdminUserList, AdminUserRead, AuditEventList, AuditEventRead
from app.audit import service as audit
from app.audit.repository import AuditEventRepository
from app.core.errors import Conflict, NotFound
from app.core.pagination import PageParams
from app.identity.principal import Principal
from app.identity.repository import SessionRepository
from app.users.repository import UserRepository


async def list_users(
    session: AsyncSession, principal: Principal, params: PageParams, *, email_prefix: str | None
) -> AdminUserList:
    page = await UserRepository(session).staff_list(params, email_prefix=email_prefix)
    # Staff reading personal data is itself a security event.
    await audit.record(session, "admin.users_listed", principal=principal)
    return AdminUserList(
        items=[AdminUserRead.model_validate(u) for u in page.items], next_cursor=page.next_cursor
    )


async def suspend_user(
    session: AsyncSession, principal: Principal, user_id: uuid.UUID
) -> AdminUserRead:
    """Suspend an account: every session is revoked now, and its API keys stop authenticating
    (key lookup requires an active creator), both from the very next request."""
    if user_id == principal.user_id:
        raise Conflict("Staff cannot suspend themselves.", code="self_suspension")
    user = await UserRepository(session).staff_get(user_id)
    if user is None:
        raise NotFound()
    now = datetime.now(UTC)
    if user.suspended_at is None:
        user.suspended_at = now
    await SessionRepository(session).revoke_all(user.id, now)
    await session.flush()
    await audit.record(
        session, "admin.user_suspended", principal=principal, target_type="user", target_id=user.id
    )
    return AdminUserRead.model_validate(user)


async def list_audit_events(
    session: AsyncSession, principal: Principal, params: PageParams, *, action: str | None
) -> AuditEventList:
    page = await AuditEventRepository(session).list_page(params, action=action)
    await audit.record(session, "admin.audit_read", principal=principal)
    return AuditEventList(
        items=[AuditEventRead.model_validate(e) for e in page.items], next_cursor=page.next_cursor
    )
