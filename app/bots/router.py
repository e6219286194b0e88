"""Bots of a workspace."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from app.bots import service as bot_service
from app.bots.schemas import BotCreate, BotList, BotRead, BotUpdate
from app.core.db import SessionDep
from app.core.openapi import responses
from app.core.pagination import PageParams, page_params
from app.identity.dependencies import AnyPrincipal, SettingsDep

router = APIRouter(tags=["bots"])


@router.post(
    "/v1/workspaces/{workspace_id}/bots",
    status_code=status.HTTP_201_CREATED,
    response_model=BotRead,
    summary="Create a bot",
    responses=responses(401, 403, 404, 422),
)
async def create_bot(
    workspace_id: uuid.UUID,
    body: BotCreate,
    principal: AnyPrincipal,
    session: SessionDep,
    settings: SettingsDep,
) -> BotRead:
    """Owners and admins create bots (model from the server's allowlist, limits capped)."""
    bot = await bot_service.create_bot(session, principal, settings, workspace_id, body)
    return BotRead.model_validate(bot)


@router.get(
    "/v1/workspaces/{workspace_id}/bots",
    response_model=BotList,
    summary="List bots",
    responses=responses(401, 403, 404, 422),
)
async def list_bots(
    workspace_id: uuid.UUID,
    principal: AnyPrincipal,
    session: SessionDep,
    page: Annotated[PageParams, Depends(page_params)],
) -> BotList:
    """Bots of a workspace the caller belongs to."""
    return await bot_service.list_bots(session, principal, workspace_id, page)


@router.get(
    "/v1/bots/{bot_id}", response_model=BotRead, summary="Get a bot", responses=responses(401, 404)
)
async def get_bot(bot_id: uuid.UUID, principal: AnyPrincipal, session: SessionDep) -> BotRead:
    """One bot."""
    return BotRead.model_validate(await bot_service.get_bot(session, principal, bot_id))


@router.patch(
    "/v1/bots/{bot_id}",
    response_model=BotRead,
    summary="Change a bot",
    responses=responses(401, 403, 404, 422),
)
async def update_bot(
    bot_id: uuid.UUID,
    body: BotUpdate,
    principal: AnyPrincipal,
    session: SessionDep,
    settings: SettingsDep,
) -> BotRead:
    """Owners and admins change prompts, models, limits and tool allowlists."""
    bot = await bot_service.update_bot(session, principal, settings, bot_id, body)
    return BotRead.model_validate(bot)


@router.delete(
    "/v1/bots/{bot_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a bot",
    responses=responses(401, 403, 404),
)
async def delete_bot(bot_id: uuid.UUID, principal: AnyPrincipal, session: SessionDep) -> Response:
    """Owners and admins delete a bot and its conversations."""
    await bot_service.delete_bot(session, principal, bot_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
