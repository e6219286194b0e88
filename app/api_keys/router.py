"""Workspace API keys (managed by owners/admins through a session, never by another key)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from app.api_keys import service as api_key_service
from app.api_keys.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyList
from app.core.db import SessionDep
from app.core.openapi import responses
from app.core.pagination import PageParams, page_params
from app.core.rate_limit import Budget
from app.identity.dependencies import SessionPrincipal, SettingsDep, require_fresh_factor
from app.identity.rate_limits import limit_by_user

router = APIRouter(prefix="/v1/workspaces/{workspace_id}/api-keys", tags=["api-keys"])


@router.post(
    "",
    dependencies=[Depends(require_fresh_factor), Depends(limit_by_user(Budget.API_KEY_CREATE))],
    status_code=status.HTTP_201_CREATED,
    response_model=ApiKeyCreated,
    summary="Create an API key",
    responses=responses(401, 403, 404, 422, 429, 503),
)
async def create_api_key(
    workspace_id: uuid.UUID,
    body: ApiKeyCreate,
    principal: SessionPrincipal,
    session: SessionDep,
    settings: SettingsDep,
) -> ApiKeyCreated:
    """Create a scoped key; the full key is in this response only."""
    return await api_key_service.create_key(
        session,
        principal,
        settings,
        workspace_id,
        name=body.name,
        scopes=body.scopes,
        expires_in_days=body.expires_in_days,
    )


@router.get(
    "", response_model=ApiKeyList, summary="List API keys", responses=responses(401, 403, 404, 422)
)
async def list_api_keys(
    workspace_id: uuid.UUID,
    principal: SessionPrincipal,
    session: SessionDep,
    page: Annotated[PageParams, Depends(page_params)],
) -> ApiKeyList:
    """Keys of the workspace (prefix and metadata, never the key or its hash)."""
    return await api_key_service.list_keys(session, principal, workspace_id, page)


@router.delete(
    "/{key_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke an API key",
    responses=responses(401, 403, 404),
)
async def revoke_api_key(
    workspace_id: uuid.UUID, key_id: uuid.UUID, principal: SessionPrincipal, session: SessionDep
) -> Response:
    """Revoke a key; it stops working on the next request."""
    await api_key_service.revoke_key(session, principal, workspace_id, key_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
