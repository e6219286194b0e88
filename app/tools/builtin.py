"""The built-in tools. Arguments are pydantic models with ``extra="forbid"``: a model that
invents ``workspace_id``/``user_id`` arguments gets its call refused, never honoured."""

from __future__ import annotations

import json
import uuid
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.conversations.repository import MessageRepository
from app.tools.context import ToolContext
from app.tools.models import Note
from app.tools.repository import NoteRepository

PlainText = Annotated[str, StringConstraints(min_length=1, pattern=r"^[^\x00]+$")]


class SearchArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: Annotated[PlainText, Field(max_length=200)]
    limit: Annotated[int, Field(ge=1, le=10)] = 5


class NoteArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Annotated[PlainText, Field(max_length=200)]
    body: Annotated[PlainText, Field(max_length=4000)]


class FetchArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Annotated[str, StringConstraints(min_length=8, max_length=2000, pattern=r"^\S+$")]


async def search_conversations(ctx: ToolContext, args: SearchArgs) -> str:
    """Only the caller's own messages, only in the bot's workspace (scoped query + RLS)."""
    rows = await MessageRepository(ctx.session).search(
        ctx.principal, ctx.workspace_id, args.query, args.limit
    )
    results = [
        {
            "conversation_id": str(row.conversation_id),
            "role": row.role.value,
            "snippet": row.content[:300],
        }
        for row in rows
    ]
    return json.dumps({"results": results})


async def create_note(ctx: ToolContext, args: NoteArgs) -> str:
    note = await NoteRepository(ctx.session).create(
        Note(
            id=uuid.uuid4(),
            workspace_id=ctx.workspace_id,
            created_by_id=ctx.principal.user_id,
            conversation_id=ctx.conversation_id,
            title=args.title,
            body=args.body,
        )
    )
    return json.dumps({"note_id": str(note.id), "status": "created"})


class FileSearchArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: Annotated[PlainText, Field(max_length=200)]
    limit: Annotated[int, Field(ge=1, le=10)] = 5


async def search_files(ctx: ToolContext, args: FileSearchArgs) -> str:
    """Only clean, text-like files of the bot's workspace the caller may read (app/files)."""
    from app.files.context import search_files as search

    results = await search(
        ctx.session, ctx.principal, ctx.settings, ctx.workspace_id, args.query, args.limit
    )
    return json.dumps({"results": results})


async def http_fetch(ctx: ToolContext, args: FetchArgs) -> str:
    from app.tools.fetch import fetch_for_tool

    return await fetch_for_tool(ctx, args.url)
