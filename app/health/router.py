"""Liveness and readiness (no auth, not in the schema, nothing secret in the answer)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse

from app.health.repository import DatabaseProbe

router = APIRouter(include_in_schema=False)
CHECK_TIMEOUT_SECONDS = 2.0


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process answers; touches nothing."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """Every hard dependency answers within a short timeout; 503 names the failing one."""
    failing: list[str] = []
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            async with request.app.state.sessionmaker() as session:
                await DatabaseProbe(session).ping()
    except Exception:
        failing.append("database")
    if failing:
        return JSONResponse({"status": "unavailable", "failing": failing}, status_code=503)
    return JSONResponse({"status": "ok"})
