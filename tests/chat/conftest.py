from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.factories.bots import create_bot
from tests.factories.users import create_actor
from tests.factories.workspaces import create_workspace
from tests.support import Actor, Database, Server


@pytest.fixture(scope="module")
def owner(server: Server, db: Database) -> Actor:
    """A workspace owner for the module (signing up is the slow part: once per module)."""
    return create_actor(server, db, "chat-owner")


@dataclass(frozen=True)
class Studio:
    """A fresh workspace of the module's owner with one bot (no tools unless asked)."""

    owner: Actor
    workspace_id: str
    bot: dict[str, Any]

    @property
    def bot_id(self) -> str:
        return str(self.bot["id"])


@pytest.fixture
def studio(owner: Actor) -> Studio:
    workspace_id = create_workspace(owner, name="Chat studio")
    return Studio(owner, workspace_id, create_bot(owner, workspace_id))
