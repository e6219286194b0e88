"""Throwaway data for the limits and files checks: one workspace (with a bot and a conversation
when chat needs one) per account and run, every file uploaded into it, all removed afterwards.

Cleanups run last-in first-out, so uploaded files are deleted (bytes gone from storage) before
their workspace is. The names say what made them, for an operator who finds one left behind.
"""

from __future__ import annotations

import secrets
import uuid

import httpx

from app.scorecard.context import Context
from app.scorecard.session import Session

NAME = "launchproof check (throwaway)"
# Tried in order; a deployment refuses models it does not serve (422) and the next is tried.
MODELS = ("gpt-4o-mini", "gpt-4.1-mini", "stub-small")
JSON = {"Accept": "application/json"}


def _json_id(response: httpx.Response) -> str | None:
    if response.status_code != 201:
        return None
    try:
        value = response.json().get("id")
    except ValueError:
        return None
    return str(value) if value else None


def workspace(session: Session) -> str | None:
    """A workspace owned by ``session`` for this run (deleted by a cleanup)."""
    key = f"scratch.workspace.{session.email}"
    if key in session.ctx.state:
        return session.ctx.state[key] or None
    created = _json_id(session.request("POST", "/v1/workspaces", json={"name": NAME}))
    session.ctx.state[key] = created or ""
    if created:
        session.remove_later(f"/v1/workspaces/{created}")
    return created


def conversation(session: Session) -> str | None:
    """A conversation with a bot that answers at most 16 tokens, in the scratch workspace."""
    key = f"scratch.conversation.{session.email}"
    if key in session.ctx.state:
        return session.ctx.state[key] or None
    session.ctx.state[key] = ""
    workspace_id = workspace(session)
    if workspace_id is None:
        return None
    bot_id = None
    for model in MODELS:
        body = {
            "name": "launchproof-check",
            "system_prompt": "Answer with one word.",
            "model": model,
            "max_output_tokens": 16,
        }
        bot_id = _json_id(session.request("POST", f"/v1/workspaces/{workspace_id}/bots", json=body))
        if bot_id:
            break
    if bot_id is None:
        return None
    created = _json_id(session.request("POST", f"/v1/bots/{bot_id}/conversations", json={}))
    session.ctx.state[key] = created or ""
    return created


def upload(
    session: Session, name: str, data: bytes, content_type: str = "text/plain"
) -> httpx.Response:
    """``POST .../files`` into the scratch workspace; a created file is deleted by a cleanup."""
    workspace_id = workspace(session) or str(uuid.uuid4())
    response = session.request(
        "POST",
        f"/v1/workspaces/{workspace_id}/files",
        files={"file": (name, data, content_type)},
    )
    file_id = _json_id(response)
    if file_id:
        session.remove_later(f"/v1/files/{file_id}")
    return response


# Canaries this run sent (file names, file content, chat text): the log must not hold them.
CANARIES = "logging.canaries"


def canary(ctx: Context, label: str) -> str:
    """A unique marker to send, remembered for the logging check (``ctx.state[CANARIES]``)."""
    value = f"lpcheck-{label}-{secrets.token_hex(6)}"
    ctx.state.setdefault(CANARIES, []).append(value)
    return value
