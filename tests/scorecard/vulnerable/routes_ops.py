"""Health, metrics, admin and the inbound webhook route: the operational surface, left open.

The flaws: ``/metrics`` is public; ``/readyz`` reports the database address; the admin user list
needs no credential at all and the other admin routes take any signed-in user (no staff check);
inbound webhooks are stored without a signature, from anyone, as fast as they come.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.responses import PlainTextResponse

from tests.scorecard.vulnerable.store import STORE, next_id, now, page, public_user
from tests.scorecard.vulnerable.web import answer, caller, lookup, read_json

router = APIRouter()


@router.get("/healthz")
async def healthz() -> Response:
    return answer({"status": "ok"})


@router.get("/readyz")
async def readyz() -> Response:
    return answer({"status": "ok", "database": "postgresql://127.0.0.1:5432/vulnerable"})


@router.get("/readyz/dependencies")
async def dependencies() -> Response:
    return answer({"status": "ok", "dependencies": {"database": "up 127.0.0.1:5432"}})


@router.get("/metrics")
async def metrics() -> Response:
    lines = [
        "# HELP http_requests_total Requests served.",
        "# TYPE http_requests_total counter",
        f'http_requests_total{{route="/v1/me"}} {STORE.me_calls}',
        f"vulnerable_users {len(STORE.users)}",
    ]
    return PlainTextResponse("\n".join(lines) + "\n", media_type="text/plain; version=0.0.4")


@router.get("/v1/admin/users")
async def admin_users() -> Response:
    # No credential asked: every account, to anyone.
    return answer(page([public_user(u) | {"suspended_at": None} for u in STORE.users.values()]))


@router.post("/v1/admin/users/{user_id}/suspend")
async def admin_suspend(user_id: str, request: Request) -> Response:
    caller(request)  # signed in is enough; no staff check
    user = lookup(STORE.users, "user", user_id)
    user["suspended_at"] = now()
    return answer(public_user(user) | {"suspended_at": user["suspended_at"]})


@router.get("/v1/admin/audit-events")
async def admin_audit(request: Request) -> Response:
    caller(request)
    return answer(page([]))


@router.post("/v1/webhooks/inbound/{source}")
async def inbound(source: str, request: Request) -> Response:
    event = await read_json(request)
    STORE.inbound.append({"id": next_id(), "source": source, "event": event})
    return answer({"status": "accepted"}, 202)
