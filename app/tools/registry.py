"""The tool registry: one table of (tool, argument model, required permission, runner).

``tools_for(principal, bot)`` is the only way a tool reaches the model: the bot's allowlist,
intersected with the registry and with what the *calling* user may do in the bot's workspace.
Every call the model makes is checked again at execution (``app.tools.executor``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from app.bots.models import Bot
from app.bots.tool_names import ToolName
from app.identity.permissions import WorkspacePermission
from app.identity.principal import Principal
from app.tools import builtin
from app.tools.context import ToolContext

Runner = Callable[[ToolContext, Any], Awaitable[str]]


@dataclass(frozen=True)
class ToolSpec:
    name: ToolName
    description: str
    arguments: type[BaseModel]
    permission: WorkspacePermission
    run: Runner

    def openai_schema(self) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {
                "name": self.name.value,
                "description": self.description,
                "parameters": self.arguments.model_json_schema(),
            },
        }


REGISTRY: dict[ToolName, ToolSpec] = {
    ToolName.SEARCH_CONVERSATIONS: ToolSpec(
        name=ToolName.SEARCH_CONVERSATIONS,
        description="Search the user's own earlier messages in this workspace.",
        arguments=builtin.SearchArgs,
        permission=WorkspacePermission.CONVERSATIONS_READ,
        run=builtin.search_conversations,
    ),
    ToolName.CREATE_NOTE: ToolSpec(
        name=ToolName.CREATE_NOTE,
        description="Create a note (a short ticket) in this workspace for the user.",
        arguments=builtin.NoteArgs,
        permission=WorkspacePermission.CHAT,
        run=builtin.create_note,
    ),
    ToolName.HTTP_FETCH: ToolSpec(
        name=ToolName.HTTP_FETCH,
        description="Fetch a web page from one of this bot's allowed domains (GET, text only).",
        arguments=builtin.FetchArgs,
        permission=WorkspacePermission.CHAT,
        run=builtin.http_fetch,
    ),
    ToolName.SEARCH_FILES: ToolSpec(
        name=ToolName.SEARCH_FILES,
        description="Search the text of this workspace's uploaded files (clean files only).",
        arguments=builtin.FileSearchArgs,
        permission=WorkspacePermission.FILES_READ,
        run=builtin.search_files,
    ),
}


def tools_for(principal: Principal, bot: Bot) -> dict[str, ToolSpec]:
    """The tools this caller may have offered for this bot (allowlist ∩ registry ∩ permission)."""
    offered: dict[str, ToolSpec] = {}
    for name in bot.tools:
        spec = REGISTRY.get(ToolName(name)) if name in ToolName._value2member_map_ else None
        if spec is not None and principal.can(bot.workspace_id, spec.permission):
            offered[spec.name.value] = spec
    return offered
