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
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

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
    return create_async_engine(
        async_url(secret.get_secret_value()),
        pool_size=pool_size or settings.database_pool_size,
        max_overflow=pool_size or settings.database_pool_size,
        # One cheap round trip per checkout (asyncpg: an empty statement) in exchange for
        # never handing out a connection the server already closed (docs/decisions/0013).
        pool_pre_ping=settings.database_pool_pre_ping,
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
