"""The bare ceiling: FastAPI + uvicorn with a ``/ping`` route and an asyncpg ``SELECT 1`` route.

Started by ``load.ceiling`` on loopback, in the same run and on the same machine as Launchproof,
so every Launchproof figure can be given as a ratio to it. No middleware, no auth, no ORM: what
any FastAPI service pays before it does anything. The uvicorn options match ``app/cli.py``
(one worker, the same HTTP parser) so the ratio measures the application, not the server.

    DATABASE_URL=postgresql://... python -m load.reference_app --port 8123 [--http h11]
"""

from __future__ import annotations

import argparse
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Literal

import asyncpg
import uvicorn
from fastapi import FastAPI, Request
from sqlalchemy.engine import make_url

POOL_SIZE = 10  # Launchproof's default DATABASE_POOL_SIZE


def _asyncpg_dsn(url: str) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


def create_app() -> FastAPI:
    dsn = _asyncpg_dsn(os.environ["DATABASE_URL"])

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

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--http", choices=["h11", "httptools"], default="h11")
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
