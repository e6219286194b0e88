"""Engine, sessions and the unit of work.

One request = one transaction: ``get_db_session`` opens it, the handler and its services only
``flush()``, and the dependency commits after the handler returns (before the response leaves) or
rolls back on any exception. See docs/decisions/0001-unit-of-work.md.

Dependency loss (docs/decisions/0013-dependency-loss.md): pooled connections are pinged at
checkout (``DATABASE_POOL_PRE_PING``), so a backend terminated while idle is replaced instead of
failing the next request; an unreachable server is a 503 (``app/core/outages.py``); a connection
lost *during* the commit of an unsafe request is a 503 ``outcome_unknown``, because the write may
or may not have been stored.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import event, exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection
from sqlalchemy.util import await_

from app.core.config import Settings
from app.core.errors import OutcomeUnknown
from app.core.outages import Outage, classify

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def async_url(raw: str) -> URL:
    """Accept ``postgres://``/``postgresql://`` URLs and use the asyncpg driver."""
    url = make_url(raw)
    if url.drivername in ("postgres", "postgresql", "postgresql+psycopg", "postgresql+psycopg2"):
        url = url.set(drivername="postgresql+asyncpg")
    return url


def create_engine(
    settings: Settings, *, migration: bool = False, pool_size: int | None = None
) -> AsyncEngine:
    secret = settings.database_migration_url if migration else settings.database_url
    if secret is None:
        raise RuntimeError(
            "DATABASE_MIGRATION_URL is not set" if migration else "DATABASE_URL is not set"
        )
    engine = create_async_engine(
        async_url(secret.get_secret_value()),
        pool_size=pool_size or settings.database_pool_size,
        max_overflow=pool_size or settings.database_pool_size,
        pool_timeout=settings.database_pool_timeout_seconds,
        # Bound values never appear in exception messages (they reach logs and error reports).
        hide_parameters=True,
        connect_args={
            "timeout": settings.database_connect_timeout_seconds,
            "server_settings": {
                "statement_timeout": str(settings.database_statement_timeout_ms),
                "idle_in_transaction_session_timeout": "60000",
                "application_name": "launchproof",
            },
        },
    )
    if settings.database_pool_pre_ping:
        event.listen(engine.sync_engine, "checkout", _ping_on_checkout)
    return engine


def _ping_on_checkout(
    _dbapi_connection: object, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection
) -> None:
    """Never hand out a connection the server already closed (docs/decisions/0013).

    SQLAlchemy's own ``pool_pre_ping`` does this with three round trips on asyncpg (``BEGIN``,
    an empty prepared statement, ``ROLLBACK``: made for PgBouncer's transaction mode). This is
    the same check in one: ``SELECT 1`` on the simple-query protocol (no prepared
    statement, so PgBouncer-safe as well), skipped to a replacement at once when asyncpg already
    saw the socket close. A failure invalidates every connection pooled before it, as
    ``pool_pre_ping`` does (a restarted server closed them all), and the pool checks out a new
    one. Hand-written because SQLAlchemy offers no one-round-trip ping for asyncpg; the
    mechanism is its documented "pessimistic disconnect handling" checkout event.
    """
    driver = record.driver_connection
    try:
        if driver is None or driver.is_closed():
            raise ConnectionError("connection closed")
        await_(driver.execute("SELECT 1"))
    except Exception as error:
        raise exc.InvalidatePoolError(f"pre-ping failed: {type(error).__name__}") from error


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


async def get_db_session(request: Request) -> AsyncIterator[AsyncSession]:
    """Yield the request's session inside one transaction; commit at the edge."""
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with sessionmaker() as session:
        try:
            yield session
        except BaseException:
            await _rollback_quietly(session)
            raise
        try:
            await session.commit()
        except Exception as exc:
            # Lost during COMMIT: the server may have stored the write before the connection
            # broke, so "nothing was changed" would be a lie. Safe methods wrote nothing.
            if request.method not in SAFE_METHODS and classify(exc) is Outage.DATABASE_UNAVAILABLE:
                await _rollback_quietly(session)
                raise OutcomeUnknown() from exc
            raise


async def _rollback_quietly(session: AsyncSession) -> None:
    """Roll back; on a dead connection the rollback fails too, and the original error matters."""
    try:
        await session.rollback()
    except Exception:  # noqa: S110 - the connection is gone; SQLAlchemy invalidated it
        pass


# scope="function": the commit runs after the handler returns but before the response is sent,
# so a failed commit is an error response, never a 200 for data that was not stored.
SessionDep = Annotated[AsyncSession, Depends(get_db_session, scope="function")]


async def commit_early(session: AsyncSession) -> None:
    """Commit the request's work so far and continue in a fresh transaction.

    The only sanctioned mid-request commit: for handlers whose next step runs in *other*
    transactions that must see this one's rows (a JSON-mode chat turn whose runner writes the
    answer with its own sessions). Everything before this point is durable even if what follows
    fails, which is exactly the streamed path's behaviour too.
    """
    await session.commit()  # the session autobegins the next transaction on next use
