"""Liveness and readiness (no auth, not in the schema, nothing secret in the answer)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import structlog
from fastapi import APIRouter, Request
from starlette.responses import JSONResponse

from app.core.metrics import READINESS
from app.health.repository import DatabaseProbe

router = APIRouter(include_in_schema=False)
log = structlog.get_logger()
CHECK_TIMEOUT_SECONDS = 2.0

# A check raises (or returns False) when its dependency cannot serve; it names no host or URL.
Check = Callable[[Request], Awaitable[bool]]


async def _database(request: Request) -> bool:
    async with request.app.state.sessionmaker() as session:
        await DatabaseProbe(session).ping()  # SELECT 1
    return True


async def _redis(request: Request) -> bool:
    # The rate limiter's own connection pool: the dependency requests actually use. PING.
    healthy: bool = await request.app.state.rate_limiter.storage.check()
    return healthy


async def _storage(request: Request) -> bool:
    # Local: the directory is writable; S3: HeadBucket on the configured bucket.
    healthy: bool = await request.app.state.storage.check()
    return healthy


async def _scanner(request: Request) -> bool:
    # clamd answers zPING with PONG.
    healthy: bool = await request.app.state.scanner.ping()
    return healthy


def hard_dependencies(request: Request) -> list[tuple[str, Check]]:
    """Every hard dependency, by the name a 503 reports."""
    checks: list[tuple[str, Check]] = [("database", _database)]
    if request.app.state.settings.redis_url is not None:
        checks.append(("redis", _redis))
    # --- Files: object storage always; clamd when a scanner is configured (app/files) ---
    checks.append(("storage", _storage))
    if request.app.state.scanner is not None:
        checks.append(("scanner", _scanner))
    return checks


async def _passes(name: str, check: Check, request: Request) -> bool:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            if await check(request):
                READINESS.labels(dependency=name).set(1)
                return True
        log.warning("readiness check failed", dependency=name)
    except Exception as exc:
        log.warning("readiness check failed", dependency=name, error=type(exc).__name__)
    READINESS.labels(dependency=name).set(0)  # alert: readiness failing (infra/prometheus)
    return False


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process answers; touches nothing."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """Every hard dependency answers within a short timeout (checked concurrently).

    503 names the failing ones and nothing else: no host, URL, port, error text or version.
    """
    checks = hard_dependencies(request)
    results = await asyncio.gather(*(_passes(name, check, request) for name, check in checks))
    failing = [name for (name, _check), ok in zip(checks, results, strict=True) if not ok]
    if failing:
        return JSONResponse({"status": "unavailable", "failing": failing}, status_code=503)
    return JSONResponse({"status": "ok"})
