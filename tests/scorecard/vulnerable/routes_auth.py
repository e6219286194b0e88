"""Sign-up, login, logout, password flows and ``/v1/me``, with the real contract's paths and shapes.

The flaws: no rate limit anywhere; signup signs nobody up for verification and says whether the
address exists; the session cookie is ``session`` without ``__Host-``, ``Secure``, ``HttpOnly``
or ``SameSite``, and the token is in the login body too; logout revokes nothing; the session
list shows every token; every third ``GET /v1/me`` takes 650 ms (the p95 budget).
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response
from starlette.responses import JSONResponse

from tests.scorecard.vulnerable.store import STORE, now, public_user
from tests.scorecard.vulnerable.web import (
    SESSION_COOKIE,
    Reject,
    answer,
    caller,
    no_content,
    read_json,
    text,
)

router = APIRouter()
SLOW_ME_SECONDS = 0.65
ACCEPTED = {"status": "accepted", "detail": "ok"}


@router.post("/v1/auth/signup")
async def signup(request: Request) -> Response:
    data = await read_json(request)
    email = text(data, "email")
    if STORE.user_by_email(email) is not None:
        # Account enumeration: a different answer for a taken address.
        raise Reject(JSONResponse({"error": f"{email} is already registered"}, status_code=409))
    STORE.add_user(email, data["password"])
    return answer(ACCEPTED, 202)


@router.post("/v1/auth/verify-email")
async def verify_email(request: Request) -> Response:
    await read_json(request)
    return answer({"status": "verified", "detail": "ok"}, 202)


@router.post("/v1/auth/login")
async def login(request: Request) -> Response:
    data = await read_json(request)
    user = STORE.user_by_email(text(data, "email"))
    if user is None:
        raise Reject(JSONResponse({"error": "no such user"}, status_code=401))
    if user["password"] != data.get("password"):
        raise Reject(JSONResponse({"error": "wrong password"}, status_code=401))
    token = STORE.new_session(user["id"])
    response = answer(public_user(user) | {"token": token})
    # No Secure, no HttpOnly, no SameSite, no __Host- prefix.
    response.headers.append("set-cookie", f"{SESSION_COOKIE}={token}; Path=/")
    return response


@router.post("/v1/auth/logout")
async def logout(request: Request) -> Response:
    caller(request)  # the session stays valid: logout only asks the browser to forget it
    response = no_content()
    response.headers.append("set-cookie", f"{SESSION_COOKIE}=; Path=/; Max-Age=0")
    return response


@router.post("/v1/auth/logout-all")
async def logout_all(request: Request) -> Response:
    return await logout(request)


@router.post("/v1/auth/password-reset")
async def password_reset(request: Request) -> Response:
    data = await read_json(request)
    if STORE.user_by_email(text(data, "email")) is None:
        raise Reject(JSONResponse({"error": "unknown address"}, status_code=404))
    return answer(ACCEPTED, 202)


@router.post("/v1/auth/password-reset/confirm")
async def password_reset_confirm(request: Request) -> Response:
    await read_json(request)
    return no_content()


@router.post("/v1/auth/password-change")
async def password_change(request: Request) -> Response:
    user = caller(request)
    data = await read_json(request)
    user["password"] = data["new_password"]  # the current password is never asked for
    return no_content()


@router.get("/v1/me")
async def get_me(request: Request) -> Response:
    user = caller(request)
    STORE.me_calls += 1
    if STORE.me_calls % 3 == 0:
        await asyncio.sleep(SLOW_ME_SECONDS)
    return answer(public_user(user))


@router.patch("/v1/me")
async def update_me(request: Request) -> Response:
    user = caller(request)
    data = await read_json(request)
    user["display_name"] = text(data, "display_name")
    return answer(public_user(user))


@router.get("/v1/me/sessions")
async def my_sessions(request: Request) -> Response:
    user = caller(request)
    items = [
        {"id": token.split(".", 1)[1], "token": token, "current": False, "created_at": now()}
        for token, owner in STORE.sessions.items()
        if owner == user["id"]
    ]
    return answer({"items": items})


@router.delete("/v1/me/sessions/{session_id}")
async def revoke_session(session_id: str, request: Request) -> Response:
    caller(request)
    del session_id  # accepted and ignored: nothing is revoked
    return no_content()
