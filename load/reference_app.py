"""The bare ceiling: FastAPI + uvicorn with a ``/ping`` route and an asyncpg ``SELECT 1`` route,
and the floor: ``/floor/me``, the least any FastAPI service must do for a checklist-compliant
authenticated read.

Started by ``load.ceiling`` on loopback, in the same run and on the same machine as Launchproof,
so every Launchproof figure can be given as a ratio to it. No middleware, no auth, no ORM: what
any FastAPI service pays before it does anything. The uvicorn options match ``app/cli.py``
(one worker, the same HTTP parser) so the ratio measures the application, not the server.

``/floor/me`` answers the same question as Launchproof's ``GET /v1/me`` with the same SQL
(compiled from ``app.identity.repository``'s statement) and the same read budget (``limits``'
moving window on Redis), and nothing else: a session cookie hashed with ``SECRET_KEY``, one
transaction (BEGIN, ``app_authenticate_session`` finding the session and binding
``app.user_id`` and ``app.workspace_ids``, COMMIT) on raw asyncpg, one rate-limit round trip,
a JSON answer. No
middleware, no access log, no metrics, no ORM, no dependency injection. ``?limit=0`` skips the
rate limit. Its throughput is the most a service with these per-request controls can reach on
this machine, whatever the framework code around them (docs/performance.md, "The floor").

    DATABASE_URL=postgresql://... [SECRET_KEY=... REDIS_URL=redis://...] \
        python -m load.reference_app --port 8123 [--http h11|httptools]
"""

from __future__ import annotations

import argparse
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, Literal

import asyncpg
import uvicorn
from fastapi import FastAPI, HTTPException, Request
from limits import parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string
from sqlalchemy import Select
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect
from sqlalchemy.engine import make_url

from app.core.security import token_hash
from app.identity.credentials import SESSION_PURPOSE
from app.identity.repository import _AUTHENTICATE_SESSION
from load.seed import COOKIE

POOL_SIZE = 10  # Launchproof's default DATABASE_POOL_SIZE


def _asyncpg_dsn(url: str) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


class _Compiled:
    """An application statement compiled once to asyncpg's ``$n`` SQL, with its fixed values."""

    def __init__(self, statement: Select[Any]) -> None:
        compiled = statement.compile(dialect=asyncpg_dialect.dialect())  # type: ignore[no-untyped-call]
        self.sql = str(compiled)
        self.defaults = dict(compiled.params)
        self.order = list(compiled.positiontup or [])

    def args(self, **values: object) -> list[object]:
        merged = {**self.defaults, **values}
        seen: list[object] = []
        for name in dict.fromkeys(self.order):  # a repeated $n is bound once
            seen.append(merged[name])
        return seen


def create_app() -> FastAPI:
    dsn = _asyncpg_dsn(os.environ["DATABASE_URL"])
    secret = os.environ.get("SECRET_KEY", "").encode()
    redis_url = os.environ.get("REDIS_URL")
    session_sql = _Compiled(_AUTHENTICATE_SESSION)
    storage = storage_from_string(
        f"async+{redis_url}" if redis_url else "async+memory://",
        **({"implementation": "redispy", "key_prefix": "lp-floor"} if redis_url else {}),
    )
    limiter, read_budget = MovingWindowRateLimiter(storage), parse("1000000/minute")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pool = await asyncpg.create_pool(dsn, min_size=POOL_SIZE, max_size=POOL_SIZE)
        try:
            yield
        finally:
            await app.state.pool.close()

    app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/ping")
    async def ping() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/select1")
    async def select1(request: Request) -> dict[str, int]:
        pool: asyncpg.Pool = request.app.state.pool
        async with pool.acquire() as connection:
            value = await connection.fetchval("SELECT 1")
        return {"value": int(value)}

    @app.get("/floor/me")
    async def floor_me(request: Request, limit: int = 1) -> dict[str, object]:
        cookie = request.cookies.get(COOKIE)
        if not cookie or not secret:
            raise HTTPException(401)
        digest = token_hash(secret, SESSION_PURPOSE, cookie)
        pool: asyncpg.Pool = request.app.state.pool
        async with pool.acquire() as connection, connection.transaction():
            user = await connection.fetchrow(
                session_sql.sql, *session_sql.args(token_hashes=[digest], now=datetime.now(UTC))
            )
            if user is None:
                raise HTTPException(401)
            user_id = user["user_id"]  # by name: the statement's columns are the app's to change
        if limit and not await limiter.hit(read_budget, "read.principal", f"user:{user_id}"):
            raise HTTPException(429)
        return {
            "id": str(user["user_id"]),
            "email": user["email"],
            "display_name": user["display_name"],
            "email_verified": user["email_verified_at"] is not None,
            "is_staff": user["is_staff"],
            "created_at": user["created_at"].isoformat(),
        }

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--http", choices=["h11", "httptools"], default="httptools")
    args = parser.parse_args()
    http: Literal["h11", "httptools"] = args.http
    uvicorn.run(
        create_app(),
        host="127.0.0.1",
        port=args.port,
        workers=1,
        http=http,
        server_header=False,
        date_header=False,
        access_log=False,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
