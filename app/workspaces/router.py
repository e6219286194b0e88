"""Workspaces and members."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from app.core.db import SessionDep
from app.core.openapi import responses
from app.core.pagination import PageParams, page_params
from app.identity.dependencies import (
    AnyPrincipal,
    SessionPrincipal,
    SettingsDep,
    require_fresh_factor,
)
from app.workspaces import service as workspace_service
from app.workspaces.schemas import (
    MemberList,
    MemberRead,
    MemberUpdate,
    WorkspaceCreate,
    WorkspaceList,
    WorkspaceRead,
    WorkspaceUpdate,
)

router = APIRouter(prefix="/v1/workspaces", tags=["workspaces"])
Page = Annotated[PageParams, Depends(page_params)]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=WorkspaceRead,
    summary="Create a workspace",
    responses=responses(401, 403, 422),
)
async def create_workspace(
    body: WorkspaceCreate, principal: SessionPrincipal, session: SessionDep
) -> WorkspaceRead:
    """Create a workspace; the caller becomes its owner."""
    return await workspace_service.create_workspace(session, principal, name=body.name)


@router.get(
    "", response_model=WorkspaceList, summary="List my workspaces", responses=responses(401, 422)
)
async def list_workspaces(
    principal: AnyPrincipal, session: SessionDep, page: Page
) -> WorkspaceList:
    """Workspaces the caller belongs to (an API key sees only its own)."""
    return await workspace_service.list_workspaces(session, principal, page)


@router.get(
    "/{workspace_id}",
    response_model=WorkspaceRead,
    summary="Get a workspace",
    responses=responses(401, 404),
)
async def get_workspace(
    workspace_id: uuid.UUID, principal: AnyPrincipal, session: SessionDep
) -> WorkspaceRead:
    """One workspace and the caller's role in it."""
    return await workspace_service.get_workspace(session, principal, workspace_id)


@router.patch(
    "/{workspace_id}",
    response_model=WorkspaceRead,
    summary="Rename a workspace or set its second-factor policy",
    responses=responses(401, 403, 404, 422),
)
async def update_workspace(
    workspace_id: uuid.UUID,
    body: WorkspaceUpdate,
    principal: SessionPrincipal,
    session: SessionDep,
    settings: SettingsDep,
) -> WorkspaceRead:
    """Owners and admins rename the workspace; owners alone set ``require_second_factor``, with
    a second factor presented within the step-up window (else 401 ``step_up_required``)."""
    return await workspace_service.update_workspace(
        session,
        principal,
        workspace_id,
        name=body.name,
        require_second_factor=body.require_second_factor,
        step_up_max_age_seconds=settings.step_up_max_age_seconds,
    )


@router.delete(
    "/{workspace_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a workspace",
    responses=responses(401, 403, 404),
)
async def delete_workspace(
    workspace_id: uuid.UUID, principal: SessionPrincipal, session: SessionDep
) -> Response:
    """Owners delete the workspace and everything in it."""
    await workspace_service.delete_workspace(session, principal, workspace_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{workspace_id}/members",
    response_model=MemberList,
    summary="List members",
    responses=responses(401, 403, 404, 422),
)
async def list_members(
    workspace_id: uuid.UUID, principal: AnyPrincipal, session: SessionDep, page: Page
) -> MemberList:
    """Members of a workspace the caller belongs to."""
    return await workspace_service.list_members(session, principal, workspace_id, page)


@router.patch(
    "/{workspace_id}/members/{user_id}",
    dependencies=[Depends(require_fresh_factor)],
    response_model=MemberRead,
    summary="Change a member's role",
    responses=responses(401, 403, 404, 409, 422),
)
async def change_member_role(
    workspace_id: uuid.UUID,
    user_id: uuid.UUID,
    body: MemberUpdate,
    principal: SessionPrincipal,
    session: SessionDep,
) -> MemberRead:
    """Owners and admins change roles; only owners make owners (ownership transfer)."""
    return await workspace_service.change_member_role(
        session, principal, workspace_id, user_id, role=body.role
    )


@router.delete(
    "/{workspace_id}/members/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a member or leave",
    responses=responses(401, 403, 404, 409),
)
async def remove_member(
    workspace_id: uuid.UUID, user_id: uuid.UUID, principal: SessionPrincipal, session: SessionDep
) -> Response:
    """Remove a member (owners/admins) or leave (yourself); the last owner cannot leave."""
    await workspace_service.remove_member(session, principal, workspace_id, user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
