"""Which exceptions mean "a dependency is unreachable" (answer 503 + Retry-After, not 500).

A request that fails because PostgreSQL, Redis or object storage cannot be reached did nothing
wrong and may simply be retried: it gets ``503`` with a ``code`` naming the class of failure and
a ``Retry-After``. Everything else stays an unexpected error (500, reported). The classification
looks at the whole exception chain (SQLAlchemy wraps the driver's error, the driver wraps the
socket's) and is deliberately narrow: a constraint violation or a driver misuse ("another
operation is in progress") is a bug to see, not an outage. A statement cancelled by the
statement or lock timeout (``57014``, ``55P03``) is the database not answering in time (a lock
queue on a hot row under overload, a server starved of CPU): ``database_busy``, logged at error
level with its SQLSTATE so a slow query is still seen. See docs/decisions/0013-dependency-loss.md.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from types import TracebackType

import asyncpg
import sqlalchemy.exc


class Outage(StrEnum):
    """The ``code`` of a 503: the class of failure, never a host or a driver message."""

    DATABASE_UNAVAILABLE = "database_unavailable"
    DATABASE_BUSY = "database_busy"  # no pooled connection free in time, or the server is full
    RATE_LIMITER_UNAVAILABLE = "rate_limit_unavailable"
    STORAGE_UNAVAILABLE = "storage_unavailable"


@dataclass(frozen=True)
class OutageAnswer:
    detail: str
    retry_after: int


ANSWERS: dict[Outage, OutageAnswer] = {
    Outage.DATABASE_UNAVAILABLE: OutageAnswer(
        "The database is unreachable; nothing was changed. Try again shortly.", 5
    ),
    Outage.DATABASE_BUSY: OutageAnswer(
        "The service is busy; nothing was changed. Try again shortly.", 2
    ),
    Outage.RATE_LIMITER_UNAVAILABLE: OutageAnswer(
        "Rate limiting is unavailable; try again shortly.", 5
    ),
    Outage.STORAGE_UNAVAILABLE: OutageAnswer("File storage is unreachable; try again shortly.", 5),
}

# Server-side refusals that mean "this connection or server is going away / not accepting".
_PG_GONE: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,  # 08xxx, incl. ConnectionDoesNotExistError
    asyncpg.AdminShutdownError,  # 57P01: pg_terminate_backend, fast/immediate shutdown
    asyncpg.CrashShutdownError,  # 57P02
    asyncpg.CannotConnectNowError,  # 57P03: starting up / shutting down
)
_PG_FULL: tuple[type[BaseException], ...] = (asyncpg.TooManyConnectionsError,)  # 53300
TIMED_OUT_SQLSTATES = frozenset({"57014", "55P03"})
# The statement was cancelled because it waited or ran too long: the transaction is rolled back.
_PG_TIMED_OUT: tuple[type[BaseException], ...] = (
    asyncpg.QueryCanceledError,  # 57014: statement_timeout (or an operator's cancel)
    asyncpg.LockNotAvailableError,  # 55P03: lock_timeout, NOWAIT
)
_DRIVER_MODULES = ("asyncpg", "sqlalchemy")


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen or len(seen) > 20:
            continue
        seen.add(id(current))
        yield current
        todo.extend((current.__cause__, current.__context__))
        orig = getattr(current, "orig", None)  # SQLAlchemy's DBAPIError.orig
        if isinstance(orig, BaseException):
            todo.append(orig)


def _raised_in(tb: TracebackType | None, modules: tuple[str, ...]) -> bool:
    while tb is not None:
        name = tb.tb_frame.f_globals.get("__name__", "")
        if isinstance(name, str) and name.split(".", 1)[0] in modules:
            return True
        tb = tb.tb_next
    return False


def _is_redis_outage(exc: BaseException) -> bool:
    try:
        import redis.exceptions
    except ImportError:  # pragma: no cover - redis is a dependency of the rate limiter
        return False
    return isinstance(exc, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError)


def _is_storage_outage(exc: BaseException) -> bool:
    try:
        import botocore.exceptions
    except ImportError:  # pragma: no cover - S3 support is optional
        return False
    return isinstance(
        exc, botocore.exceptions.ConnectionError | botocore.exceptions.ReadTimeoutError
    )


def sqlstate(exc: BaseException) -> str | None:
    """The PostgreSQL SQLSTATE in ``exc``'s chain (``57014``, ``40P01``, …), or None: a
    five-character class code an operator can look up, never the message (which may quote data)."""
    for link in _chain(exc):
        code = getattr(link, "sqlstate", None)
        if isinstance(code, str) and len(code) == 5 and code.isalnum():
            return code
    return None


def classify(exc: BaseException) -> Outage | None:
    """The outage ``exc`` stands for, or None when it is an ordinary (unexpected) error."""
    for link in _chain(exc):
        if isinstance(link, sqlalchemy.exc.TimeoutError) or isinstance(link, _PG_FULL):
            return Outage.DATABASE_BUSY
        timed_out = getattr(link, "sqlstate", None) in TIMED_OUT_SQLSTATES
        if timed_out or isinstance(link, _PG_TIMED_OUT):
            return Outage.DATABASE_BUSY
        if isinstance(link, sqlalchemy.exc.DBAPIError) and link.connection_invalidated:
            return Outage.DATABASE_UNAVAILABLE
        if isinstance(link, _PG_GONE):
            return Outage.DATABASE_UNAVAILABLE
        if (
            isinstance(link, asyncpg.InterfaceError)
            and "connection" in str(link)
            and ("closed" in str(link))
        ):
            return Outage.DATABASE_UNAVAILABLE
        # Refused/reset/timed-out sockets: an outage of the database when the driver raised them
        # (connecting to a stopped server raises ConnectionRefusedError unwrapped).
        if isinstance(link, ConnectionError | asyncio.TimeoutError | TimeoutError) and _raised_in(
            link.__traceback__, _DRIVER_MODULES
        ):
            return Outage.DATABASE_UNAVAILABLE
        if _is_redis_outage(link):
            return Outage.RATE_LIMITER_UNAVAILABLE
        if _is_storage_outage(link):
            return Outage.STORAGE_UNAVAILABLE
    return None
