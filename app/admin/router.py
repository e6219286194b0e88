"""Platform admin routes: staff sessions only (never API keys, never workspace admins)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from app.admin import service as admin_service
from app.admin.schemas import AdminUserList, AdminUserRead, AuditEventList
from app.auth.mfa import service as mfa_service
from app.core.db import SessionDep
from app.core.openapi import responses
from app.core.pagination import PageParams, page_params
from app.identity.dependencies import StaffPrincipal
from app.identity.rate_limits import limit_admin

# Every admin route: the per-staff-user budget (RATE_LIMIT_ADMIN), after the staff check.
router = APIRouter(prefix="/v1/admin", tags=["admin"], dependencies=[Depends(limit_admin)])
Page = Annotated[PageParams, Depends(page_params)]


@router.get(
    "/users", response_model=AdminUserList, summary="List users", responses=responses(401, 403, 422)
)
async def list_users(
    principal: StaffPrincipal,
    session: SessionDep,
    page: Page,
    email_prefix: Annotated[str | None, Query(min_length=1, max_length=320)] = None,
) -> AdminUserList:
    """All accounts, newest first, optionally by e-mail prefix."""
    return await admin_service.list_users(session, principal, page, email_prefix=email_prefix)


@router.post(
    "/users/{user_id}/suspend",
    response_model=AdminUserRead,
    summary="Suspend a user",
    responses=responses(401, 403, 404, 409),
)
async def suspend_user(
    user_id: uuid.UUID, principal: StaffPrincipal, session: SessionDep
) -> AdminUserRead:
    """Suspend an account and end all its sessions and keys at once."""
    return await admin_service.suspend_user(session, principal, user_id)


@router.get(
    "/audit-events",
    response_model=AuditEventList,
    summary="Read the audit log",
    responses=responses(401, 403, 422),
)
async def list_audit_events(
    principal: StaffPrincipal,
    session: SessionDep,
    page: Page,
    action: Annotated[str | None, Query(max_length=60, pattern=r"^[a-z_.]+$")] = None,
) -> AuditEventList:
    """Security events, newest first."""
    return await admin_service.list_audit_events(session, principal, page, action=action)


@router.post(
    "/users/{user_id}/second-factors/reset",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Reset a user's second factors",
    responses=responses(401, 403, 404),
)
async def reset_second_factors(
    user_id: uuid.UUID, principal: StaffPrincipal, session: SessionDep
) -> Response:
    """Remove every factor of a user who lost them and end their sessions; audited and mailed.
    Like every admin route, it needs the staff member's own factor within the step-up window."""
    await mfa_service.admin_reset(session, principal, user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
