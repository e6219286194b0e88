"""Throwaway objects of account A for the authorization checks, made once per run.

A's workspace (``Session.workspace``), a bot, a conversation, a small text file and an API key,
plus the ids that exist anyway (A's user id, A's current session). Each creation that fails is
noted (the run goes on with what exists); each success is removed among the cleanups.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from app.scorecard.context import Context
from app.scorecard.model import Evidence
from app.scorecard.problems import json_object
from app.scorecard.session import Session

# The bot body; ``model`` must be one the deployment offers: a refusal names them, and the
# first is taken ("Choose one of: a, b.").
DEFAULT_MODEL = "gpt-4o-mini"
BOT: dict[str, Any] = {
    "name": "launchproof check",
    "system_prompt": "You answer in one short sentence.",
    "max_output_tokens": 64,
}
TITLE = {"title": "launchproof check"}


@dataclass
class Owned:
    ids: dict[str, str] = field(default_factory=dict)  # path parameter name -> A's id
    notes: list[Evidence] = field(default_factory=list)  # what could not be made, and why
    bot_body: dict[str, Any] = field(default_factory=dict)
    b_objects: dict[str, str | None] = field(default_factory=dict)

    def b_conversation(self, b: Session) -> str | None:
        """B's own bot and conversation (for ids in bodies), made once."""
        if "conversation" not in self.b_objects:
            self.b_objects["conversation"] = None
            workspace = b.workspace()
            if workspace is None:
                return None
            bots, chats = f"/v1/workspaces/{workspace}/bots", "/v1/conversations"
            bot = _create(b, bots, "/v1/bots", self.notes, json=self.bot_body)
            if bot is not None:
                self.b_objects["conversation"] = _create(
                    b, f"/v1/bots/{bot}/conversations", chats, self.notes, json=TITLE
                )
        return self.b_objects["conversation"]


def _id(response: httpx.Response) -> str | None:
    if response.status_code != 201:
        return None
    body = json_object(response)
    return str(body["id"]) if body.get("id") else None


def _create(
    session: Session, path: str, remove: str, notes: list[Evidence], **kwargs: Any
) -> str | None:
    """POST ``path``; the new object's id (``DELETE remove/<id>`` at the end), or None, noted."""
    response = session.request("POST", path, **kwargs)
    created = _id(response)
    if created is None:
        notes.append(Evidence(session.describe("POST", path), response.status_code, "not created"))
        return None
    session.remove_later(f"{remove}/{created}")
    return created


def _bot_body(session: Session, workspace: str) -> dict[str, Any]:
    """A valid bot body for this deployment: the model list comes from a refusal if needed."""
    body = {**BOT, "model": DEFAULT_MODEL}
    probe = session.request("POST", f"/v1/workspaces/{workspace}/bots", json=body)
    created = _id(probe)
    if created is not None:
        session.remove_later(f"/v1/bots/{created}")
        session.ctx.state["objects.first_bot"] = created
        return body
    detail = str(json_object(probe).get("detail", "")) if probe.status_code == 422 else ""
    if "Choose one of:" in detail:
        offered = detail.split("Choose one of:", 1)[1].strip().removesuffix(".").split(",")
        body["model"] = offered[0].strip()
    return body


def owned_objects(ctx: Context, a: Session) -> Owned:
    key = "objects.owned"
    if key in ctx.state:
        owned: Owned = ctx.state[key]
        return owned
    owned = Owned()
    ctx.state[key] = owned
    workspace = a.workspace()
    if workspace is None:
        owned.notes.append(Evidence(a.describe("POST", "/v1/workspaces"), None, "not created"))
        return owned
    owned.ids["workspace_id"] = workspace
    if a.user_id:
        owned.ids["user_id"] = a.user_id
    owned.bot_body = _bot_body(a, workspace)
    bots = f"/v1/workspaces/{workspace}/bots"
    bot = ctx.state.get("objects.first_bot") or _create(
        a, bots, "/v1/bots", owned.notes, json=owned.bot_body
    )
    if bot:
        owned.ids["bot_id"] = bot
        chats = f"/v1/bots/{bot}/conversations"
        conversation = _create(a, chats, "/v1/conversations", owned.notes, json=TITLE)
        if conversation:
            owned.ids["conversation_id"] = conversation
    upload = {"file": ("launchproof-check.txt", b"launchproof check\n", "text/plain")}
    files = f"/v1/workspaces/{workspace}/files"
    file_id = _create(a, files, "/v1/files", owned.notes, files=upload)
    if file_id:
        owned.ids["file_id"] = file_id
    api_key = a.api_key()
    if api_key is not None:
        owned.ids["key_id"] = api_key.id
    current = _current_session(a)
    if current:
        owned.ids["session_id"] = current
    return owned


def _current_session(a: Session) -> str | None:
    response = a.request("GET", "/v1/me/sessions")
    if response.status_code != 200:
        return None
    items = json_object(response).get("items")
    if not isinstance(items, list):
        return None
    current = [item for item in items if isinstance(item, dict) and item.get("current")]
    return str(current[0]["id"]) if current and current[0].get("id") else None
