"""Engine, sessions and the unit of work.

One request = one transaction: ``get_db_session`` opens it, the handler and its services only
``flush()``, and the dependency commits after the handler returns (before the response leaves) or
rolls back on any exception. See docs/decisions/0001-unit-of-work.md.
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
        pool_pre_ping=False,
        # Bound values never appear in exception messages (they reach logs and error reports).
        hide_parameters=True,
        connect_args={
            "server_settings": {
                "statement_timeout": str(settings.database_statement_timeout_ms),
                "idle_in_transaction_session_timeout": "60000",
                "application_name": "launchproof",
            }
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
            await session.rollback()
            raise
        await session.commit()


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
