"""The background worker (``python -m app worker``).

Jobs are registered in ``JOBS`` with how often they run. A job receives a ``WorkerContext`` (the
settings and a sessionmaker) and opens its own transactions: a job that calls out of the process
(SMTP, a webhook receiver, clamd) claims rows in one short transaction, does the slow part with no
transaction open, and records the outcome in another. Claims use ``FOR UPDATE SKIP LOCKED`` so any
number of workers on any number of machines share the work. Jobs that touch tenant rows bind the
job's one workspace with ``PrincipalContextRepository.bind_worker_scope``: RLS applies to the
worker as to any request. Each job returns how many items it handled.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.housekeeping import purge_expired_credentials
from app.core.config import Settings
from app.core.db import create_engine, create_sessionmaker
from app.core.error_reporting import init_error_reporting, report_exception

log = structlog.get_logger()


@dataclass(frozen=True)
class WorkerContext:
    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]


JobFunction = Callable[[WorkerContext], Awaitable[int]]


@dataclass(frozen=True)
class JobSpec:
    run: JobFunction
    every_seconds: float


async def _purge_expired_credentials(context: WorkerContext) -> int:
    async with context.sessionmaker() as session, session.begin():
        return await purge_expired_credentials(session)


JOBS: dict[str, JobSpec] = {
    "purge_expired_credentials": JobSpec(_purge_expired_credentials, every_seconds=600.0),
}


@dataclass
class _Schedule:
    last_run: dict[str, float] = field(default_factory=dict)

    def due(self, now: float) -> list[str]:
        return [
            name
            for name, spec in JOBS.items()
            if now - self.last_run.get(name, float("-inf")) >= spec.every_seconds
        ]


async def run_jobs_once(context: WorkerContext, names: list[str] | None = None) -> dict[str, int]:
    """Run the named jobs (default: all) once each; a failing job never stops the others."""
    results: dict[str, int] = {}
    for name in names if names is not None else list(JOBS):
        try:
            results[name] = await JOBS[name].run(context)
        except Exception as exc:  # one failing job must not stop the others
            log.exception("worker job failed", job=name)
            report_exception(exc)
            results[name] = -1
    return results


async def run_worker(settings: Settings, *, once: bool = False) -> bool:
    """Run due jobs every ``WORKER_POLL_SECONDS`` until SIGINT/SIGTERM; with ``once``, one round.

    Returns False when a job of the (last) round failed, so ``worker --once`` under cron or CI
    exits non-zero instead of hiding the failure.
    """
    init_error_reporting(settings)
    engine = create_engine(settings)
    context = WorkerContext(settings=settings, sessionmaker=create_sessionmaker(engine))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    schedule = _Schedule()
    ok = True
    log.info("worker started", jobs=len(JOBS))
    try:
        while not stop.is_set():
            now = time.monotonic()
            names = list(JOBS) if once else schedule.due(now)
            results = await run_jobs_once(context, names)
            for name in names:
                schedule.last_run[name] = now
            worked = {name: count for name, count in results.items() if count != 0}
            if worked:
                log.info("worker jobs ran", **worked)
            ok = all(count >= 0 for count in results.values())
            if once:
                return ok
            try:
                await asyncio.wait_for(stop.wait(), timeout=settings.worker_poll_seconds)
            except TimeoutError:
                continue
        return ok
    finally:
        log.info("worker stopped")
        await engine.dispose()
