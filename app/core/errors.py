"""One error family, one wire shape (RFC 9457 ``application/problem+json``).

Services raise ``AppError`` subclasses; one set of handlers renders them, request validation
errors and unexpected exceptions alike, with a stable ``code`` and the ``request_id``.
Validation errors list where and why, never the submitted value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

from app.core.outages import ANSWERS, TIMED_OUT_SQLSTATES, classify, sqlstate
from app.core.request_context import current_request_id

PROBLEM_JSON = "application/problem+json"
log = structlog.get_logger()


class AppError(Exception):
    status_code = 400
    code = "bad_request"
    title = "Bad request"
    headers: Mapping[str, str] = {}

    def __init__(self, detail: str | None = None, *, code: str | None = None) -> None:
        self.detail = detail or self.title
        if code is not None:
            self.code = code
        super().__init__(self.detail)


class BadRequest(AppError):
    pass


class Unauthorized(AppError):
    status_code = 401
    code = "unauthenticated"
    title = "Authentication required"
    headers = {"WWW-Authenticate": 'Bearer realm="launchproof"'}


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"
    title = "Forbidden"


class NotFound(AppError):
    status_code = 404
    code = "not_found"
    title = "Not found"


class Conflict(AppError):
    status_code = 409
    code = "conflict"
    title = "Conflict"


class PayloadTooLarge(AppError):
    status_code = 413
    code = "payload_too_large"
    title = "Payload too large"


class UnsupportedMediaType(AppError):
    status_code = 415
    code = "unsupported_media_type"
    title = "Unsupported media type"


class Unprocessable(AppError):
    status_code = 422
    code = "unprocessable"
    title = "Unprocessable content"


class RateLimited(AppError):
    status_code = 429
    code = "rate_limited"
    title = "Too many requests"

    def __init__(self, retry_after: int, detail: str | None = None) -> None:
        super().__init__(detail)
        self.headers = {"Retry-After": str(max(1, retry_after))}


class ServiceUnavailable(AppError):
    """A dependency cannot serve: always with ``Retry-After`` (never a 500, never a host)."""

    status_code = 503
    code = "unavailable"
    title = "Service unavailable"

    def __init__(
        self, detail: str | None = None, *, code: str | None = None, retry_after: int = 5
    ) -> None:
        super().__init__(detail, code=code)
        self.headers = {"Retry-After": str(max(1, retry_after))}


class OutcomeUnknown(ServiceUnavailable):
    """The connection was lost while a write committed: it may or may not have been stored."""

    code = "outcome_unknown"
    title = "Outcome unknown"
    DETAIL = (
        "The connection to the database was lost while your change was being saved; it may or"
        " may not have been stored. Retry with the same Idempotency-Key where the route accepts"
        " one, otherwise check the resource before repeating the request."
    )

    def __init__(self) -> None:
        super().__init__(self.DETAIL, retry_after=5)


STATUS_CODES: dict[int, tuple[str, str]] = {
    400: ("bad_request", "Bad request"),
    401: ("unauthenticated", "Authentication required"),
    403: ("forbidden", "Forbidden"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
    406: ("not_acceptable", "Not acceptable"),
    411: ("length_required", "Length required"),
    413: ("payload_too_large", "Payload too large"),
    415: ("unsupported_media_type", "Unsupported media type"),
    422: ("validation_failed", "Validation failed"),
    429: ("rate_limited", "Too many requests"),
    500: ("internal_error", "Internal server error"),
}


def problem_response(
    status: int,
    *,
    code: str,
    title: str,
    detail: str | None = None,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail or title,
        "code": code,
        "request_id": current_request_id(),
    }
    if extra:
        body.update(extra)
    return JSONResponse(
        body, status_code=status, headers=dict(headers or {}), media_type=PROBLEM_JSON
    )


def _validation_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    # Location, message and type only: pydantic's "input" and "ctx" can echo what was sent
    # (a password in a bad request must not come back), so they are dropped.
    return [
        {
            "loc": [str(part) for part in error.get("loc", ())],
            "msg": str(error.get("msg", "")),
            "type": str(error.get("type", "")),
        }
        for error in errors
    ]


async def _app_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return problem_response(
        exc.status_code, code=exc.code, title=exc.title, detail=exc.detail, headers=exc.headers
    )


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = _validation_errors(exc.errors())
    json_invalid = any(error["type"] == "json_invalid" for error in errors)
    return problem_response(
        400 if json_invalid else 422,
        code="malformed_json" if json_invalid else "validation_failed",
        title="Malformed JSON" if json_invalid else "Validation failed",
        detail="The request body is not valid JSON." if json_invalid else "The request is invalid.",
        extra={"errors": errors},
    )


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code, title = STATUS_CODES.get(exc.status_code, ("error", "Error"))
    return problem_response(exc.status_code, code=code, title=title, headers=exc.headers)


async def _dependency_error(_request: Request, exc: Exception) -> JSONResponse:
    """A driver/socket error: 503 when it means a dependency is unreachable, else re-raised.

    Re-raising sends it on to the request-context middleware: a 500, logged and reported.
    """
    outage = classify(exc)
    if outage is None:
        raise exc
    answer = ANSWERS[outage]
    state = sqlstate(exc)
    if state in TIMED_OUT_SQLSTATES:  # answered like overload, but a slow query is a bug to see
        log.error("database statement timed out", code=outage.value, sqlstate=state)
    else:
        log.warning("dependency unavailable", code=outage.value, error=type(exc).__name__)
    return problem_response(
        503,
        code=outage.value,
        title="Service unavailable",
        detail=answer.detail,
        headers={"Retry-After": str(answer.retry_after)},
    )


# Every exception type a lost dependency surfaces as (the classifier decides which of them are
# outages): SQLAlchemy's wrappers and pool timeout, asyncpg's own errors when raised unwrapped,
# sockets (a refused connect is a bare ConnectionRefusedError), timeouts, Redis and S3 clients.
def _dependency_exception_types() -> list[type[Exception]]:
    import asyncpg
    import sqlalchemy.exc

    types: list[type[Exception]] = [
        sqlalchemy.exc.SQLAlchemyError,
        asyncpg.PostgresError,
        asyncpg.InterfaceError,
        OSError,  # ConnectionError, TimeoutError
    ]
    try:
        import redis.exceptions

        types.append(redis.exceptions.RedisError)
    except ImportError:  # pragma: no cover
        pass
    try:
        import botocore.exceptions

        types.append(botocore.exceptions.BotoCoreError)
    except ImportError:  # pragma: no cover
        pass
    return types


def install_error_handlers(app: FastAPI) -> None:
    for exception_type in _dependency_exception_types():
        app.add_exception_handler(exception_type, _dependency_error)
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
