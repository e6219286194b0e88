"""Seeding through the public API, the way a client would (the e-mail token is read from the
outbox as the database superuser, the way the tests do)."""

from __future__ import annotations

import asyncio
import re
import secrets
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg

from load.chat_client import JSON_ACCEPT, user_text
from load.stack import Stack

COOKIE = "__Host-lp_session"
SYSTEM_PROMPT = "You are a helpful assistant for a small creator studio. Answer briefly."
MAX_OUTPUT_TOKENS = 256  # above the 50-token reply: the cap never cuts it


@dataclass(frozen=True)
class Seeded:
    origin: str
    cookie: str
    workspace_id: str
    bot_id: str
    conversations: tuple[str, ...]

    def headers(self) -> dict[str, str]:
        """Same-origin browser-like headers; the ``__Host-`` cookie is sent by hand (plain
        http on loopback: a cookie jar would keep a ``Secure`` cookie to itself)."""
        return {"Origin": self.origin, "Cookie": f"{COOKIE}={self.cookie}"}


def _expect(response: httpx.Response, status: int) -> Any:
    if response.status_code != status:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path}: "
            f"{response.status_code} {response.text[:300]}"
        )
    return response.json() if response.content else None


async def _mail_token(admin_dsn: str, to: str, kind: str) -> str:
    async with await psycopg.AsyncConnection.connect(admin_dsn, autocommit=True) as db:
        for _ in range(50):
            cursor = await db.execute(
                "SELECT body_text FROM email_outbox WHERE to_address = %s AND kind = %s "
                "ORDER BY created_at DESC LIMIT 1",
                (to, kind),
            )
            row = await cursor.fetchone()
            if row is not None:
                match = re.search(r"token=([A-Za-z0-9_-]+)", str(row[0]))
                if match:
                    return match.group(1)
            await asyncio.sleep(0.1)
    raise RuntimeError(f"no {kind} mail for {to}")


def _session_cookie(response: httpx.Response) -> str:
    for header in response.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        if name == COOKIE:
            return rest.split(";", 1)[0]
    raise RuntimeError("login set no session cookie")


async def studio_with_conversations(
    http: httpx.AsyncClient, *, name: str, bot_name: str, title: str, count: int
) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """Through the API, as the signed-in ``http`` client: a workspace, a ``stub-small`` bot and
    ``count`` empty conversations titled ``"<title> <n>"``. Returns the workspace, the bot and
    the conversation ids."""
    workspace = _expect(await http.post("/v1/workspaces", json={"name": name}), 201)
    bot_body = {
        "name": bot_name,
        "system_prompt": SYSTEM_PROMPT,
        "model": "stub-small",
        "max_output_tokens": MAX_OUTPUT_TOKENS,
    }
    bot = _expect(await http.post(f"/v1/workspaces/{workspace['id']}/bots", json=bot_body), 201)
    ids: list[str] = []
    for n in range(count):
        created = await http.post(
            f"/v1/bots/{bot['id']}/conversations", json={"title": f"{title} {n}"}
        )
        ids.append(str(_expect(created, 201)["id"]))
    return workspace, bot, ids


async def seed(stack: Stack, *, conversations: int, history_turns: int) -> Seeded:
    """One verified user, a workspace, a ``stub-small`` bot, conversations with history."""
    origin = stack.api_url
    email = f"bench-{secrets.token_hex(6)}@example.com"
    password = "pw-" + secrets.token_urlsafe(18)
    async with httpx.AsyncClient(
        base_url=stack.api_url, headers={"Origin": origin}, timeout=30
    ) as anon:
        _expect(
            await anon.post("/v1/auth/signup", json={"email": email, "password": password}), 202
        )
        token = await _mail_token(stack.admin_dsn, email, "verify_email")
        _expect(await anon.post("/v1/auth/verify-email", json={"token": token}), 202)
        login = await anon.post("/v1/auth/login", json={"email": email, "password": password})
        _expect(login, 200)
        cookie = _session_cookie(login)
    partial = Seeded(origin, cookie, "", "", ())
    async with httpx.AsyncClient(
        base_url=stack.api_url, headers=partial.headers(), timeout=30
    ) as http:
        workspace, bot, ids = await studio_with_conversations(
            http, name="Bench studio", bot_name="Bench bot", title="Bench", count=conversations
        )

        async def history(index: int, conversation_id: str) -> None:
            for turn in range(history_turns):
                response = await http.post(
                    f"/v1/conversations/{conversation_id}/messages",
                    json={"content": user_text(10_000 * (index + 1) + turn)},
                    headers=JSON_ACCEPT,
                )
                if _expect(response, 200)["message"]["status"] != "complete":
                    raise RuntimeError("a seeding turn did not complete")

        await asyncio.gather(*(history(i, c) for i, c in enumerate(ids)))
    return Seeded(origin, cookie, str(workspace["id"]), str(bot["id"]), tuple(ids))
