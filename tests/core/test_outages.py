"""Which errors are outages (503 + Retry-After) and which stay bugs (500): real driver errors.

The end-to-end behaviour is in tests/faults/; this pins the classifier's narrowness: a refused
socket counts only when the database driver raised it, a statement cancelled by the statement or
lock timeout is "busy" (503) while a deadlock or a constraint violation stays a bug, and whatever
is not classified still reaches the last-resort 500.
"""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
import redis.asyncio
import redis.exceptions
import sqlalchemy.exc
from fastapi import FastAPI
from starlette.testclient import TestClient

from app.core.errors import install_error_handlers
from app.core.middleware import EdgeMiddleware
from app.core.outages import Outage, classify
from tests.support import free_port


def _refused_by_asyncpg() -> BaseException:
    async def connect() -> None:
        await asyncpg.connect(host="127.0.0.1", port=free_port(), user="x", timeout=2)

    try:
        asyncio.run(connect())
    except BaseException as exc:
        return exc
    raise AssertionError("nothing listens there")


def _refused_by_redis() -> BaseException:
    async def ping() -> None:
        client = redis.asyncio.Redis(port=free_port(), socket_connect_timeout=1)
        try:
            await client.ping()
        finally:
            await client.aclose()

    try:
        asyncio.run(ping())
    except BaseException as exc:
        return exc
    raise AssertionError("nothing listens there")


def test_a_refused_database_connection_is_database_unavailable() -> None:
    exc = _refused_by_asyncpg()
    assert isinstance(exc, OSError)
    assert classify(exc) is Outage.DATABASE_UNAVAILABLE


def test_a_refused_socket_elsewhere_is_not_a_database_outage() -> None:
    with pytest.raises(ConnectionRefusedError) as info:
        raise ConnectionRefusedError(111, "Connection refused")
    assert classify(info.value) is None


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (asyncpg.AdminShutdownError("terminating connection"), Outage.DATABASE_UNAVAILABLE),
        (
            asyncpg.CannotConnectNowError("the database system is starting up"),
            Outage.DATABASE_UNAVAILABLE,
        ),
        (asyncpg.ConnectionDoesNotExistError("connection was closed"), Outage.DATABASE_UNAVAILABLE),
        (asyncpg.TooManyConnectionsError("too many clients"), Outage.DATABASE_BUSY),
        (sqlalchemy.exc.TimeoutError("QueuePool limit reached"), Outage.DATABASE_BUSY),
        (
            asyncpg.QueryCanceledError("canceling statement due to statement timeout"),
            Outage.DATABASE_BUSY,
        ),
        (
            asyncpg.LockNotAvailableError("canceling statement due to lock timeout"),
            Outage.DATABASE_BUSY,
        ),
        (asyncpg.DeadlockDetectedError("deadlock detected"), None),
        (asyncpg.UniqueViolationError("duplicate key"), None),
        (asyncpg.InterfaceError("another operation is in progress"), None),
        (ValueError("a bug"), None),
    ],
)
def test_classification(exc: BaseException, expected: Outage | None) -> None:
    assert classify(exc) is expected


def test_a_wrapped_disconnect_is_found_through_the_chain() -> None:
    wrapped = sqlalchemy.exc.DBAPIError(
        "SELECT 1", None, asyncpg.AdminShutdownError("x"), connection_invalidated=False
    )
    assert classify(wrapped) is Outage.DATABASE_UNAVAILABLE
    outer = RuntimeError("wrapper")
    outer.__cause__ = asyncpg.ConnectionDoesNotExistError("closed")
    assert classify(outer) is Outage.DATABASE_UNAVAILABLE


def test_an_unreachable_redis_is_the_rate_limiter() -> None:
    exc = _refused_by_redis()
    assert isinstance(exc, redis.exceptions.ConnectionError)
    assert classify(exc) is Outage.RATE_LIMITER_UNAVAILABLE


def _app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/outage")
    async def outage() -> None:
        raise asyncpg.AdminShutdownError("terminating connection due to administrator command")

    @app.get("/bug")
    async def bug() -> None:
        raise FileNotFoundError(2, "No such file", "/srv/secret-path")

    app.add_middleware(EdgeMiddleware, trusted_proxies=[], cloudflare_proxies=[])
    return app


def test_outages_answer_503_and_other_errors_still_500() -> None:
    with TestClient(_app(), raise_server_exceptions=False) as client:
        outage = client.get("/outage")
        bug = client.get("/bug")
    assert outage.status_code == 503
    assert outage.headers["retry-after"] == "5"
    assert outage.headers["content-type"] == "application/problem+json"
    assert outage.json()["code"] == "database_unavailable"
    assert "administrator" not in outage.text
    assert bug.status_code == 500
    assert bug.json()["code"] == "internal_error"
    assert "secret-path" not in bug.text
