"""A small creator platform, seeded through the public API before a load run.

Several users, each with a workspace, a ``stub-small`` bot and many conversations holding a few
JSON-mode turns (answered instantly by the model stub), so list and read queries run against
realistic tables, never an empty database. Each user signs up from its own documentation
address (``X-Forwarded-For``; the load stack trusts 127.0.0.1 as a proxy), so the default
per-IP signup and verification budgets apply unchanged. No SQL writes: the only database access
is reading the verification token from the outbox, as ``load.seed`` does.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

from load.chat_client import JSON_ACCEPT, user_text
from load.seed import (
    COOKIE,
    _expect,
    _mail_token,
    _session_cookie,
    studio_with_conversations,
)
from load.stack import Stack

TRUSTED_PROXY = "127.0.0.1/32"  # the load stack's TRUSTED_PROXY_CIDRS


@dataclass(frozen=True)
class SeedUser:
    email: str
    password: str
    ip: str
    cookie: str
    workspace_id: str
    bot_id: str
    conversations: tuple[str, ...]


@dataclass(frozen=True)
class Platform:
    api_url: str
    users: tuple[SeedUser, ...]

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=1))

    @classmethod
    def load(cls, path: Path) -> Platform:
        raw: dict[str, Any] = json.loads(path.read_text())
        users = tuple(
            SeedUser(**{**u, "conversations": tuple(u["conversations"])}) for u in raw["users"]
        )
        return cls(api_url=str(raw["api_url"]), users=users)


def user_ip(index: int) -> str:
    """TEST-NET-2 addresses (RFC 5737), one per seeded user."""
    return f"198.51.100.{10 + index}"


async def _seed_user(
    stack: Stack, index: int, *, conversations: int, turns: int, sends: asyncio.Semaphore
) -> SeedUser:
    origin = stack.api_url
    ip = user_ip(index)
    email = f"load-{index}-{secrets.token_hex(4)}@example.com"
    password = "pw-" + secrets.token_urlsafe(18)
    anon_headers = {"Origin": origin, "X-Forwarded-For": ip}
    async with httpx.AsyncClient(base_url=origin, headers=anon_headers, timeout=60) as anon:
        body = {"email": email, "password": password}
        _expect(await anon.post("/v1/auth/signup", json=body), 202)
        token = await _mail_token(stack.admin_dsn, email, "verify_email")
        _expect(await anon.post("/v1/auth/verify-email", json={"token": token}), 202)
        login = await anon.post("/v1/auth/login", json=body)
        _expect(login, 200)
        cookie = _session_cookie(login)
    headers = {**anon_headers, "Cookie": f"{COOKIE}={cookie}"}
    async with httpx.AsyncClient(base_url=origin, headers=headers, timeout=60) as http:
        workspace, bot, ids = await studio_with_conversations(
            http,
            name=f"Studio {index}",
            bot_name=f"Helper {index}",
            title="Topic",
            count=conversations,
        )

        async def history(offset: int, conversation_id: str) -> None:
            for turn in range(turns):
                async with sends:
                    response = await http.post(
                        f"/v1/conversations/{conversation_id}/messages",
                        json={"content": user_text(1_000 * offset + turn)},
                        headers=JSON_ACCEPT,
                    )
                if _expect(response, 200)["message"]["status"] != "complete":
                    raise RuntimeError("a seeding turn did not complete")

        await asyncio.gather(*(history(100 * index + i, c) for i, c in enumerate(ids)))
    return SeedUser(
        email=email,
        password=password,
        ip=ip,
        cookie=cookie,
        workspace_id=str(workspace["id"]),
        bot_id=str(bot["id"]),
        conversations=tuple(ids),
    )


async def seed_platform(
    stack: Stack, *, users: int, conversations: int, turns: int, concurrency: int = 4
) -> Platform:
    """``users`` creators, each with a workspace, a bot, ``conversations`` x ``turns`` turns."""
    sends = asyncio.Semaphore(concurrency)
    seeded = await asyncio.gather(
        *(
            _seed_user(stack, i, conversations=conversations, turns=turns, sends=sends)
            for i in range(users)
        )
    )
    return Platform(api_url=stack.api_url, users=tuple(seeded))
