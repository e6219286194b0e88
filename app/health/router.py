"""Liveness, readiness and the dependency report (no auth, not in the schema, nothing secret).

``/readyz`` fails only for what every route needs: the database. A load balancer routing on it
keeps the API in service while Redis, storage or the scanner is down (the routes that need them
answer 503 with Retry-After on their own); those are reported by ``/readyz/dependencies`` and by
the ``launchproof_dependency_up`` gauge. See docs/decisions/0013-dependency-loss.md.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse

from app.health.dependencies import DependencyMonitor, check_database, probe

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process answers; touches nothing."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """The database answers within a short timeout; 503 names it and nothing else."""
    if await probe(request.app, "database", check_database):
        return JSONResponse({"status": "ok"})
    return JSONResponse({"status": "unavailable", "failing": ["database"]}, status_code=503)


@router.get("/readyz/dependencies")
async def dependency_report(request: Request) -> JSONResponse:
    """Each dependency ``up`` or ``down`` (at most a few seconds old); always 200.

    A report, not a probe: ``status`` is ``degraded`` while any is down. Names only: no host,
    URL, port, version or error text.
    """
    monitor: DependencyMonitor = request.app.state.dependency_monitor
    states = await monitor.report(request.app)
    return JSONResponse(
        {
            "status": "ok" if all(states.values()) else "degraded",
            "dependencies": {name: "up" if ok else "down" for name, ok in states.items()},
        }
    )
