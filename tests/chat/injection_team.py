"""The team the prompt-injection tests attack through the model stub: a workspace with an owner, an
admin, a member and a bot, plus the reads that show what a tool call did.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from typing import Any

import pytest

from tests.chat.helpers import marker, new_session
from tests.factories.bots import create_bot
from tests.factories.conversations import send_ok, start_conversation
from tests.factories.users import create_actor
from tests.factories.workspaces import add_member, create_workspace
from tests.support import Actor, Database, Server

MAX_TOOL_ROUNDS = 3  # CHAT_MAX_TOOL_ROUNDS' default; the test server runs with it


@dataclass(frozen=True)
class Team:
    """Workspace A (owner, admin, member, peer) and an outsider who owns workspace B."""

    owner: Actor
    admin: Actor
    member: Actor
    peer: Actor  # another plain member of A
    workspace_id: str
    outsider: Actor
    outsider_workspace_id: str


@pytest.fixture(scope="module")
def team(server: Server, db: Database) -> Team:
    owner = create_actor(server, db, "team-owner")
    workspace_id = create_workspace(owner, name="Workspace A")
    outsider = create_actor(server, db, "outsider")
    return Team(
        owner=owner,
        admin=add_member(server, db, owner, workspace_id, "admin"),
        member=add_member(server, db, owner, workspace_id, "member"),
        peer=add_member(server, db, owner, workspace_id, "member"),
        workspace_id=workspace_id,
        outsider=outsider,
        outsider_workspace_id=create_workspace(outsider, name="Workspace B"),
    )


@dataclass(frozen=True)
class Chat:
    """A bot of workspace A and the member's conversation with it, in a stub session."""

    bot: dict[str, Any]
    conversation_id: str
    session: str

    def turn(self, actor: Actor, text: str = "Please help.") -> dict[str, Any]:
        return send_ok(actor, self.conversation_id, f"{text} {marker(self.session)}")


def chat_with(team: Team, tools: list[str], actor: Actor | None = None) -> Chat:
    bot = create_bot(team.owner, team.workspace_id, tools=tools)
    conversation = start_conversation(actor or team.member, bot["id"])
    return Chat(bot, str(conversation["id"]), new_session())


def call(name: str, arguments: dict[str, Any] | str) -> dict[str, Any]:
    """A scripted completion: the "model" calls ``name``, whether or not it was offered."""
    return {"tool_calls": [{"name": name, "arguments": arguments}]}


def notes(db: Database) -> list[tuple[Any, ...]]:
    return db.rows("SELECT id, workspace_id, created_by_id, title, body FROM note ORDER BY id")


def tool_calls(db: Database, conversation_id: str) -> list[tuple[Any, ...]]:
    return db.rows(
        "SELECT tool, outcome, detail, arguments, user_id::text FROM tool_call "
        "WHERE conversation_id = %s ORDER BY created_at, id",
        conversation_id,
    )


def tool_messages(body: dict[str, Any]) -> list[str]:
    """What the service told the model its tool calls returned, in one recorded request."""
    return [str(m["content"]) for m in body["messages"] if m["role"] == "tool"]


def offered_tools(body: dict[str, Any]) -> list[str]:
    return sorted(tool["function"]["name"] for tool in body.get("tools", []))


def github_token() -> str:
    """Made at run time, so no credential-shaped literal sits in the repository."""
    return "ghp_" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(36))
