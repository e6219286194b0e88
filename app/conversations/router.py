"""Conversations and their message history."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from app.conversations import service as conversation_service
from app.conversations.schemas import (
    ConversationCreate,
    ConversationList,
    ConversationRead,
    ConversationUpdate,
    MessageList,
)
from app.core.db import SessionDep
from app.core.openapi import responses
from app.core.pagination import PageParams, page_params
from app.identity.dependencies import AnyPrincipal

router = APIRouter(tags=["conversations"])
Page = Annotated[PageParams, Depends(page_params)]


@router.post(
    "/v1/bots/{bot_id}/conversations",
    status_code=status.HTTP_201_CREATED,
    response_model=ConversationRead,
    summary="Start a conversation",
    responses=responses(401, 403, 404, 422),
)
async def start_conversation(
    bot_id: uuid.UUID, body: ConversationCreate, principal: AnyPrincipal, session: SessionDep
) -> ConversationRead:
    """Start a private conversation with a bot."""
    conversation = await conversation_service.start_conversation(
        session, principal, bot_id, title=body.title
    )
    return ConversationRead.model_validate(conversation)


@router.get(
    "/v1/workspaces/{workspace_id}/conversations",
    response_model=ConversationList,
    summary="List my conversations",
    responses=responses(401, 403, 404, 422),
)
async def list_conversations(
    workspace_id: uuid.UUID, principal: AnyPrincipal, session: SessionDep, page: Page
) -> ConversationList:
    """The caller's own conversations in a workspace (never anyone else's)."""
    return await conversation_service.list_conversations(session, principal, workspace_id, page)


@router.get(
    "/v1/conversations/{conversation_id}",
    response_model=ConversationRead,
    summary="Get a conversation",
    responses=responses(401, 404),
)
async def get_conversation(
    conversation_id: uuid.UUID, principal: AnyPrincipal, session: SessionDep
) -> ConversationRead:
    """One of the caller's conversations."""
    conversation = await conversation_service.get_conversation(session, principal, conversation_id)
    return ConversationRead.model_validate(conversation)


@router.patch(
    "/v1/conversations/{conversation_id}",
    response_model=ConversationRead,
    summary="Rename a conversation",
    responses=responses(401, 404, 422),
)
async def rename_conversation(
    conversation_id: uuid.UUID,
    body: ConversationUpdate,
    principal: AnyPrincipal,
    session: SessionDep,
) -> ConversationRead:
    """Rename one of the caller's conversations."""
    conversation = await conversation_service.rename_conversation(
        session, principal, conversation_id, title=body.title
    )
    return ConversationRead.model_validate(conversation)


@router.delete(
    "/v1/conversations/{conversation_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a conversation",
    responses=responses(401, 404),
)
async def delete_conversation(
    conversation_id: uuid.UUID, principal: AnyPrincipal, session: SessionDep
) -> Response:
    """Delete one of the caller's conversations and its messages."""
    await conversation_service.delete_conversation(session, principal, conversation_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/v1/conversations/{conversation_id}/messages",
    response_model=MessageList,
    summary="List messages",
    responses=responses(401, 404, 422),
)
async def list_messages(
    conversation_id: uuid.UUID, principal: AnyPrincipal, session: SessionDep, page: Page
) -> MessageList:
    """Messages of one of the caller's conversations, newest first."""
    return await conversation_service.list_messages(session, principal, conversation_id, page)
