"""Invitations: created by workspace admins, accepted by the invited (signed-in) person."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, status

from app.core.db import SessionDep
from app.core.openapi import responses
from app.core.rate_limit import Budget
from app.identity.dependencies import SessionPrincipal, SettingsDep
from app.identity.rate_limits import limit_by_user
from app.invitations import service as invitation_service
from app.invitations.schemas import InvitationAccept, InvitationCreate, InvitationRead
from app.workspaces.schemas import WorkspaceRead

router = APIRouter(tags=["invitations"])


@router.post(
    "/v1/workspaces/{workspace_id}/invitations",
    dependencies=[Depends(limit_by_user(Budget.INVITATION))],
    status_code=status.HTTP_201_CREATED,
    response_model=InvitationRead,
    summary="Invite someone",
    responses=responses(401, 403, 404, 409, 422, 429, 503),
)
async def create_invitation(
    workspace_id: uuid.UUID,
    body: InvitationCreate,
    principal: SessionPrincipal,
    session: SessionDep,
    settings: SettingsDep,
) -> InvitationRead:
    """Mail a single-use invitation link bound to ``email``."""
    invitation = await invitation_service.invite(
        session, principal, settings, workspace_id, email=body.email, role=body.role
    )
    return InvitationRead.model_validate(invitation)


@router.post(
    "/v1/invitations/accept",
    response_model=WorkspaceRead,
    summary="Accept an invitation",
    responses=responses(401, 403, 409, 422),
)
async def accept_invitation(
    body: InvitationAccept, principal: SessionPrincipal, session: SessionDep, settings: SettingsDep
) -> WorkspaceRead:
    """Join the workspace; the signed-in user's verified address must be the invited one."""
    return await invitation_service.accept(session, principal, settings, token=body.token)
