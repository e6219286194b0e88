"""The background worker (``python -m app worker``).

Jobs are plain async functions run in a loop, each in its own transaction. This issue's job is
housekeeping; the webhook, e-mail and file-scan issues register their own jobs here.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.housekeeping import purge_expired_credentials
from app.core.config import Settings
from app.core.db import create_engine, create_sessionmaker
from app.core.error_reporting import init_error_reporting, report_exception

log = structlog.get_logger()
Job = Callable[[AsyncSession], Awaitable[int]]
JOBS: dict[str, Job] = {"purge_expired_credentials": purge_expired_credentials}
INTERVAL_SECONDS = 60.0


async def run_jobs_once(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    results: dict[str, int] = {}
    for name, job in JOBS.items():
        try:
            async with sessionmaker() as session, session.begin():
                results[name] = await job(session)
        except Exception as exc:  # one failing job must not stop the others
            log.exception("worker job failed", job=name)
            report_exception(exc)
            results[name] = -1
    return results


async def run_worker(settings: Settings, *, once: bool = False) -> bool:
    """Run jobs every INTERVAL_SECONDS until SIGINT/SIGTERM; with ``once``, one round.

    Returns False when a job of the (last) round failed, so ``worker --once`` under cron or CI
    exits non-zero instead of hiding the failure.
    """
    init_error_reporting(settings)
    engine = create_engine(settings)
    sessionmaker = create_sessionmaker(engine)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        while True:
            results = await run_jobs_once(sessionmaker)
            log.info("worker jobs ran", **results)
            ok = all(count >= 0 for count in results.values())
            if once:
                return ok
            try:
                await asyncio.wait_for(stop.wait(), timeout=INTERVAL_SECONDS)
                return ok
            except TimeoutError:
                continue
    finally:
        await engine.dispose()
