"""Bots, conversations and messages, with the real contract's shapes and none of its checks.

The flaws: every id is readable and writable by any signed-in user (the IDOR), and two private
routes forgot authentication altogether: the tool catalogue and a workspace's conversation list
answer anyone. Sends are never throttled; the "model" answers by echoing the prompt.
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Request, Response
from starlette.responses import StreamingResponse

from tests.scorecard.vulnerable.store import STORE, Record, next_id, now, page
from tests.scorecard.vulnerable.web import answer, caller, listed, lookup, read_json, removed, text

router = APIRouter()
MODEL = "echo-1"


def _bot(workspace_id: str, data: Record) -> Record:
    return {
        "id": next_id(),
        "workspace_id": workspace_id,
        "name": text(data, "name"),
        "system_prompt": data.get("system_prompt", ""),
        "model": data.get("model", MODEL),
        "temperature": data.get("temperature", 0.7),
        "max_output_tokens": data.get("max_output_tokens", 512),
        "tools": data.get("tools", []),
        "allowed_domains": data.get("allowed_domains", []),
        "created_at": now(),
        "updated_at": None,
    }


@router.post("/v1/workspaces/{workspace_id}/bots")
async def create_bot(workspace_id: str, request: Request) -> Response:
    caller(request)
    bot = _bot(workspace_id, await read_json(request))
    STORE.bots[bot["id"]] = bot
    return answer(bot, 201)


@router.get("/v1/workspaces/{workspace_id}/bots")
async def list_bots(workspace_id: str, request: Request) -> Response:
    caller(request)
    return listed(STORE.bots, workspace_id)


@router.get("/v1/bots/{bot_id}")
async def get_bot(bot_id: str, request: Request) -> Response:
    caller(request)
    return answer(lookup(STORE.bots, "bot", bot_id))


@router.patch("/v1/bots/{bot_id}")
async def update_bot(bot_id: str, request: Request) -> Response:
    caller(request)
    bot = lookup(STORE.bots, "bot", bot_id)
    bot.update(await read_json(request))
    bot["updated_at"] = now()
    return answer(bot)


@router.delete("/v1/bots/{bot_id}")
async def delete_bot(bot_id: str, request: Request) -> Response:
    caller(request)
    return removed(STORE.bots, "bot", bot_id)


@router.post("/v1/bots/{bot_id}/conversations")
async def create_conversation(bot_id: str, request: Request) -> Response:
    caller(request)
    bot = lookup(STORE.bots, "bot", bot_id)
    data = await read_json(request)
    conversation = {
        "id": next_id(),
        "workspace_id": bot["workspace_id"],
        "bot_id": bot_id,
        "title": text(data, "title", "New conversation"),
        "created_at": now(),
        "last_message_at": None,
    }
    STORE.conversations[conversation["id"]] = conversation
    return answer(conversation, 201)


@router.get("/v1/workspaces/{workspace_id}/conversations")
async def list_conversations(workspace_id: str) -> Response:
    # No caller() at all: anyone lists any workspace's conversations.
    return listed(STORE.conversations, workspace_id)


@router.get("/v1/conversations/{conversation_id}")
async def get_conversation(conversation_id: str, request: Request) -> Response:
    caller(request)
    return answer(lookup(STORE.conversations, "conversation", conversation_id))


@router.patch("/v1/conversations/{conversation_id}")
async def update_conversation(conversation_id: str, request: Request) -> Response:
    caller(request)
    conversation = lookup(STORE.conversations, "conversation", conversation_id)
    conversation["title"] = text(await read_json(request), "title", conversation["title"])
    return answer(conversation)


@router.delete("/v1/conversations/{conversation_id}")
async def delete_conversation(conversation_id: str, request: Request) -> Response:
    caller(request)
    return removed(STORE.conversations, "conversation", conversation_id)


def _message(conversation_id: str, role: str, content: str, reply_to: str | None) -> Record:
    message: Record = {
        "id": next_id(),
        "conversation_id": conversation_id,
        "role": role,
        "content": content,
        "status": "complete",
        "reply_to_id": reply_to,
        "model": MODEL if role == "assistant" else None,
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "error_code": None,
        "created_at": now(),
    }
    STORE.messages[message["id"]] = message
    return message


@router.get("/v1/conversations/{conversation_id}/messages")
async def list_messages(conversation_id: str, request: Request) -> Response:
    caller(request)
    lookup(STORE.conversations, "conversation", conversation_id)
    items = [m for m in STORE.messages.values() if m["conversation_id"] == conversation_id]
    return answer(page(items))


@router.post("/v1/conversations/{conversation_id}/messages")
async def send_message(conversation_id: str, request: Request) -> Response:
    caller(request)
    conversation = lookup(STORE.conversations, "conversation", conversation_id)
    content = (await read_json(request))["content"]
    asked = _message(conversation_id, "user", content, None)
    reply = _message(conversation_id, "assistant", f"You said: {content}", asked["id"])
    conversation["last_message_at"] = now()
    result = {"user_message_id": asked["id"], "message": reply, "tool_calls": []}
    if "application/json" in request.headers.get("accept", ""):
        return answer(result)
    events = [
        f"event: delta\ndata: {json.dumps({'text': reply['content']})}\n\n",
        f"event: done\ndata: {json.dumps(result)}\n\n",
    ]
    return StreamingResponse(iter(events), media_type="text/event-stream")


@router.get("/v1/conversations/{conversation_id}/tool-calls")
async def list_tool_calls(conversation_id: str, request: Request) -> Response:
    caller(request)
    lookup(STORE.conversations, "conversation", conversation_id)
    return answer(page([]))


@router.get("/v1/tools")
async def list_tools() -> Response:
    # No caller(): the catalogue is served to anonymous callers.
    tool = {"name": "http_get", "description": "Fetch a URL", "parameters": {}}
    return answer({"items": [tool | {"required_permission": "bots.use"}]})
