from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.identity.principal import Principal
from app.workspaces.access import AccessibleWorkspaceID


@dataclass(frozen=True)
class ToolContext:
    """What a tool runs with: the *calling user's* principal and a session bound to it.

    There is no service account: a tool can reach exactly what the caller can, in the bot's
    workspace only. Ids never come from the model's arguments.
    """

    session: AsyncSession
    principal: Principal
    settings: Settings
    workspace_id: AccessibleWorkspaceID
    conversation_id: uuid.UUID
    allowed_domains: tuple[str, ...]
