"""A deliberately wrong server for the limits, files, logging and latency checks: the public
contract's paths and shapes, with the protections taken out one switch at a time.

``Flaws`` picks what is broken: rate limits (absent, a bare 429 without Retry-After, or a 429
that never lifts), the upload cap (reads every byte, then refuses or accepts), downloads (served
inline as text/html, EICAR included), latency (a sleep on ``/v1/me``), the log (request bodies,
passwords included). It runs in a thread of the test process under uvicorn, on loopback.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.scorecard.context import Account
from tests.support import free_port

COOKIE = "__Host-lp_session"


@dataclass
class Flaws:
    rate_limit: str = "none"  # "none" | "bare" (429, text, no Retry-After) | "forever"
    limit_after: int = 3
    upload_cap: int | None = None  # None: no cap; else 413 after reading the whole body
    inline_html: bool = True  # downloads as text/html, no disposition, no nosniff, no CSP
    slow_me_seconds: float = 0.0
    log_bodies: bool = True  # writes every request body to the log


@dataclass
class WrongServer:
    url: str
    log_path: Path
    account: Account
    flaws: Flaws
    files: dict[str, bytes] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)


def _app(state: WrongServer) -> Starlette:
    flaws = state.flaws

    def log(line: str) -> None:
        with state.log_path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")

    def limited(key: str) -> Response | None:
        state.counts[key] = state.counts.get(key, 0) + 1
        if flaws.rate_limit == "none" or state.counts[key] <= flaws.limit_after:
            return None
        if flaws.rate_limit == "bare":
            return Response("slow down", status_code=429, media_type="text/plain")
        problem = {"type": "about:blank", "title": "Too Many Requests", "status": 429}
        return JSONResponse(
            problem, 429, headers={"Retry-After": "1"}, media_type="application/problem+json"
        )

    async def body_of(request: Request) -> bytes:
        data = await request.body()
        if flaws.log_bodies:
            log(f"{request.method} {request.url.path} body={data[:2000].decode(errors='replace')}")
        return data

    async def login(request: Request) -> Response:
        body = json.loads(await body_of(request) or b"{}")
        if body.get("email") == state.account.email and body.get("password") == (
            state.account.password
        ):
            response = JSONResponse({"id": str(uuid.uuid4())})
            response.set_cookie(COOKIE, secrets.token_urlsafe(32), secure=True, httponly=True)
            return response
        if (refused := limited("login")) is not None:  # wrong credentials only
            return refused
        return JSONResponse({"status": 401}, 401, media_type="application/problem+json")

    def simple(key: str, status: int, body: Any = None):  # type: ignore[no-untyped-def]
        async def endpoint(request: Request) -> Response:
            await body_of(request)
            if key and (refused := limited(key)) is not None:
                return refused
            if status == 204:
                return Response(status_code=204)
            return JSONResponse(body if body is not None else {"status": status}, status)

        return endpoint

    async def created(request: Request) -> Response:
        await body_of(request)
        return JSONResponse({"id": str(uuid.uuid4())}, 201)

    async def upload(request: Request) -> Response:
        if (refused := limited("upload")) is not None:
            return refused
        data = b""
        async for chunk in request.stream():  # no cap while reading: the flaw
            data += chunk
        if flaws.upload_cap is not None and len(data) > flaws.upload_cap:
            return JSONResponse({"status": 413}, 413, media_type="application/problem+json")
        file_id = str(uuid.uuid4())
        state.files[file_id] = data
        return JSONResponse({"id": file_id, "status": "clean"}, 201)

    async def file_meta(request: Request) -> Response:
        return JSONResponse({"id": request.path_params["file_id"], "status": "clean"})

    async def content(request: Request) -> Response:
        data = state.files.get(request.path_params["file_id"], b"")
        if flaws.inline_html:
            return Response(data, media_type="text/html")
        headers = {
            "Content-Disposition": 'attachment; filename="f"',
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        }
        return Response(data, media_type="application/octet-stream", headers=headers)

    async def me(request: Request) -> Response:
        await asyncio.sleep(flaws.slow_me_seconds)
        return JSONResponse({"id": "me"})

    async def admin_users(request: Request) -> Response:
        return JSONResponse({"items": [{"email": state.account.email}]})

    routes = [
        Route("/v1/auth/login", login, methods=["POST"]),
        Route("/v1/auth/logout", simple("", 204, {}), methods=["POST"]),
        Route("/v1/auth/signup", simple("signup", 422), methods=["POST"]),
        Route("/v1/auth/password-reset", simple("reset", 202), methods=["POST"]),
        Route("/v1/me", me, methods=["GET"]),
        Route("/v1/workspaces", created, methods=["POST"]),
        Route("/v1/workspaces", simple("", 200, {"items": []}), methods=["GET"]),
        Route("/v1/workspaces/{workspace_id}", simple("", 204, {}), methods=["DELETE"]),
        Route("/v1/workspaces/{workspace_id}/bots", created, methods=["POST"]),
        Route("/v1/bots/{bot_id}/conversations", created, methods=["POST"]),
        Route("/v1/conversations/{cid}/messages", simple("chat", 200, {}), methods=["POST"]),
        Route("/v1/workspaces/{workspace_id}/files", upload, methods=["POST"]),
        Route("/v1/files/{file_id}", file_meta, methods=["GET"]),
        Route("/v1/files/{file_id}", simple("", 204, {}), methods=["DELETE"]),
        Route("/v1/files/{file_id}/content", content, methods=["GET"]),
        Route("/v1/webhooks/inbound/{source}", simple("webhook", 400), methods=["POST"]),
        Route("/v1/admin/users", admin_users, methods=["GET"]),
        Route("/v1/admin/users/{uid}/suspend", simple("admin", 404), methods=["POST"]),
    ]
    return Starlette(routes=routes)


@contextmanager
def wrong_server(tmp_path: Path, flaws: Flaws | None = None) -> Iterator[WrongServer]:
    port = free_port()
    account = Account("someone@example.com", "pw-" + secrets.token_urlsafe(12))
    state = WrongServer(
        f"http://127.0.0.1:{port}", tmp_path / "wrong.log", account, flaws or Flaws()
    )
    state.log_path.write_text("")
    config = uvicorn.Config(_app(state), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield state
    finally:
        server.should_exit = True
        thread.join(timeout=10)
