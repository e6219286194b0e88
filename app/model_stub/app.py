"""``create_stub_app()``: the OpenAI-compatible model stub and its ``/_stub/`` control API.

Not part of the product: tests, load tests and ``make run`` without ``OPENAI_API_KEY`` point the
real ``openai`` SDK at it. The bearer token is required and never logged, recorded or echoed.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from ipaddress import ip_address
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response, StreamingResponse

from app.model_stub.replies import Plan, plan_reply, session_of
from app.model_stub.schemas import SESSION_PATTERN, ChatCompletionRequest, FailMode, ScriptCreate
from app.model_stub.scripts import StubState
from app.model_stub.wire import (
    SSE_MEDIA_TYPE,
    AbortedResponse,
    ChunkWriter,
    broken_stream_parts,
    completion,
    cut_stream_events,
    error_response,
    raw_events,
    stream_events,
)

MODELS = ("stub-small", "stub-large")
TIMEOUT_SECONDS = 30.0  # [[fail:timeout]]: longer than any sane client timeout, but bounded
MAX_WAIT_SECONDS = 30.0
SESSION_HEADER = "x-stub-session"
SessionParam = Annotated[str | None, Query(pattern=SESSION_PATTERN)]


class StubError(Exception):
    def __init__(self, status_code: int, message: str, *, type_: str, code: str | None) -> None:
        super().__init__(message)
        self.status_code, self.message, self.type_, self.code = status_code, message, type_, code


def _state(request: Request) -> StubState:
    state: StubState = request.app.state.stub
    return state


def require_bearer(request: Request) -> None:
    """Any non-empty bearer token passes; none fails like OpenAI does (401, invalid_api_key)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise StubError(
            401,
            "Missing bearer authentication in header.",
            type_="invalid_request_error",
            code="invalid_api_key",
        )


def require_loopback_client(request: Request) -> None:
    """The control API answers loopback callers only (the CLI also binds loopback only)."""
    host = request.client.host if request.client else ""
    try:
        loopback = ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise StubError(403, "The stub control API is loopback-only.", type_="forbidden", code=None)


openai_router = APIRouter(prefix="/v1", dependencies=[Depends(require_bearer)])
control_router = APIRouter(prefix="/_stub", dependencies=[Depends(require_loopback_client)])


@openai_router.get("/models")
async def list_models() -> dict[str, Any]:
    """The model ids the stub advertises (it answers to any model id)."""
    data = [{"id": m, "object": "model", "created": 0, "owned_by": "launchproof"} for m in MODELS]
    return {"object": "list", "data": data}


@openai_router.post("/chat/completions")
async def create_chat_completion(request: Request) -> Response:
    """OpenAI chat completions, deterministic, with markers and scripts (see the package doc)."""
    raw = await request.body()
    try:
        body = ChatCompletionRequest.model_validate_json(raw)
    except ValidationError as exc:
        raise StubError(
            400, _describe(exc), type_="invalid_request_error", code="invalid_request"
        ) from None
    state = _state(request)
    session = request.headers.get(SESSION_HEADER) or session_of(body.messages)
    if session and not re.fullmatch(SESSION_PATTERN, session):
        raise StubError(
            400, "Invalid X-Stub-Session.", type_="invalid_request_error", code="invalid_request"
        )
    sequence = state.next_sequence()
    state.record(sequence, session, json.loads(raw))
    plan = plan_reply(body, state.take(session), f"call_stub_{sequence}")
    completion_id, created = f"chatcmpl-stub-{sequence}", int(time.time())

    if plan.fail is FailMode.SERVER_ERROR:
        raise StubError(500, "The model stub failed on purpose.", type_="server_error", code=None)
    if plan.fail is FailMode.RATE_LIMITED:
        return error_response(
            429,
            "Rate limit reached (model stub).",
            type_="requests",
            code="rate_limit_exceeded",
            headers={"Retry-After": str(plan.retry_after)},
        )
    if plan.fail is FailMode.TIMEOUT:
        await _wait(request, TIMEOUT_SECONDS)
    if not body.stream:
        await _wait(request, plan.delay * max(len(plan.tokens), len(plan.tool_calls)))
        payload = completion(plan, completion_id=completion_id, created=created, model=body.model)
        if plan.fail in (FailMode.BROKEN_STREAM, FailMode.CUT_STREAM):
            encoded = json.dumps(payload).encode()
            return AbortedResponse(
                [encoded[: len(encoded) // 2]],
                media_type="application/json",
                content_length=len(encoded),
            )
        return JSONResponse(payload)
    return _stream(plan, body, completion_id=completion_id, created=created)


def _stream(
    plan: Plan, body: ChatCompletionRequest, *, completion_id: str, created: int
) -> Response:
    writer = ChunkWriter(
        completion_id=completion_id,
        created=created,
        model=body.model,
        with_usage=body.include_usage,
    )
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    if plan.raw_chunks:
        return StreamingResponse(raw_events(plan), media_type=SSE_MEDIA_TYPE, headers=headers)
    if plan.fail is FailMode.BROKEN_STREAM:
        return AbortedResponse(
            broken_stream_parts(plan, writer), media_type=SSE_MEDIA_TYPE, delay=plan.delay
        )
    events = cut_stream_events if plan.fail is FailMode.CUT_STREAM else stream_events
    return StreamingResponse(events(plan, writer), media_type=SSE_MEDIA_TYPE, headers=headers)


async def _wait(request: Request, seconds: float) -> None:
    """Sleep up to ``seconds`` (capped), returning early once the client has gone away."""
    deadline = time.monotonic() + min(seconds, MAX_WAIT_SECONDS)
    while (remaining := deadline - time.monotonic()) > 0:
        if await request.is_disconnected():
            return
        await asyncio.sleep(min(remaining, 0.05))


def _describe(exc: ValidationError) -> str:
    """Where and why the body is invalid, never the offending values (they may be secrets)."""
    problems = [
        f"{'.'.join(str(p) for p in error['loc']) or 'body'}: {error['msg']}"
        for error in exc.errors(include_url=False, include_input=False)[:5]
    ]
    return "Invalid request body: " + "; ".join(problems)


# --- Control API ----------------------------------------------------------------------------


@control_router.post("/script")
async def queue_script(
    request: Request, script: ScriptCreate, session: SessionParam = None
) -> dict[str, Any]:
    """Queue scripted completions for a session; they are consumed in order."""
    pending = _state(request).enqueue(session or "", script.responses)
    return {"session": session or "", "pending": pending}


@control_router.get("/requests")
async def list_requests(request: Request, session: SessionParam = None) -> dict[str, Any]:
    """Recorded completion bodies, oldest first (one session's, or all of them)."""
    return {"requests": _state(request).recordings(session)}


@control_router.post("/reset")
async def reset_stub(request: Request, session: SessionParam = None) -> dict[str, Any]:
    """Forget scripts and recordings: one session's, or everything."""
    _state(request).reset(session)
    return {"reset": session if session is not None else "all"}


# --- The app --------------------------------------------------------------------------------


async def _stub_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StubError)
    return error_response(exc.status_code, exc.message, type_=exc.type_, code=exc.code)


async def _validation_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = [
        f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors()[:5]
    ]
    message = "Invalid request: " + "; ".join(problems)
    return error_response(400, message, type_="invalid_request_error", code="invalid_request")


async def _http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return error_response(
        exc.status_code, str(exc.detail), type_="invalid_request_error", code=None
    )


def create_stub_app(*, state: StubState | None = None) -> FastAPI:
    """A fresh stub with its own (empty) scripts and recordings."""
    app = FastAPI(
        title="Launchproof model stub",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        exception_handlers={
            StubError: _stub_error,
            RequestValidationError: _validation_error,
            HTTPException: _http_error,
        },
    )
    app.state.stub = state or StubState()
    app.include_router(openai_router)
    app.include_router(control_router)
    return app
