"""The background worker (``python -m app worker``).

Each domain declares its jobs in ``app/<domain>/jobs.py`` (``JOBS``, with how often each runs);
this module composes them into one ``JobRegistry`` (``app/core/jobs.py``) and runs it. A job
receives a ``WorkerContext`` (the settings and a sessionmaker) and opens its own transactions: a
job that calls out of the process (SMTP, a webhook receiver, clamd) claims rows in one short
transaction, does the slow part with no transaction open, and records the outcome in another.
Claims use ``FOR UPDATE SKIP LOCKED`` so any number of workers on any number of machines share
the work. Jobs that touch tenant rows bind the job's one workspace with
``PrincipalContextRepository.bind_worker_scope``: RLS applies to the worker as to any request.
Each job returns how many items it handled.
"""

from __future__ import annotations

import asyncio
import signal
import time
from dataclasses import dataclass, field

import structlog

from app.auth import jobs as auth_jobs
from app.chat import jobs as chat_jobs
from app.core.config import Settings
from app.core.db import create_engine, create_sessionmaker
from app.core.error_reporting import init_error_reporting, report_exception
from app.core.jobs import JobRegistry, WorkerContext
from app.email import jobs as email_jobs
from app.files import jobs as files_jobs
from app.webhooks import jobs as webhooks_jobs

log = structlog.get_logger()

# Every domain's jobs (``app/<domain>/jobs.py``), in the order a round runs them.
JOBS = JobRegistry(
    auth_jobs.JOBS,
    email_jobs.JOBS,
    files_jobs.JOBS,
    webhooks_jobs.JOBS,
    chat_jobs.JOBS,
)


@dataclass
class _Schedule:
    names: list[str]
    last_run: dict[str, float] = field(default_factory=dict)

    def due(self, now: float) -> list[str]:
        return [
            name
            for name in self.names
            if now - self.last_run.get(name, float("-inf")) >= JOBS[name].every_seconds
        ]


def select_jobs(only: list[str] | None) -> list[str]:
    """The jobs a worker runs: all, or the named ones (a dedicated worker per queue).

    Raises ValueError naming the unknown jobs, so a typo fails at start, not silently.
    """
    return JOBS.select(only)


async def run_jobs_once(
    context: WorkerContext, names: list[str] | None = None, *, stop: asyncio.Event | None = None
) -> dict[str, int]:
    """Run the named jobs (default: all) once each; a failing job never stops the others.

    Once ``stop`` is set (SIGTERM), the running job finishes its claimed batch and no further job
    of the round starts.
    """
    results: dict[str, int] = {}
    for name in names if names is not None else list(JOBS):
        if stop is not None and stop.is_set():
            break
        try:
            results[name] = await JOBS[name].run(context)
        except Exception as exc:  # one failing job must not stop the others
            log.exception("worker job failed", job=name)
            report_exception(exc)
            results[name] = -1
    return results


async def run_worker(
    settings: Settings, *, once: bool = False, only: list[str] | None = None
) -> bool:
    """Run due jobs every ``WORKER_POLL_SECONDS`` until SIGINT/SIGTERM; with ``once``, one round.
    ``only`` restricts the worker to the named jobs (see ``select_jobs``).

    Drain: on the signal, the running job finishes the batch it claimed (its rows would otherwise
    stay leased until the lease passes) and the worker exits; a job still running
    ``SHUTDOWN_GRACE_SECONDS`` later is cancelled, and its leases expire as after a crash.

    Returns False when a job of the (last) round failed, so ``worker --once`` under cron or CI
    exits non-zero instead of hiding the failure.
    """
    init_error_reporting(settings)
    engine = create_engine(settings)
    context = WorkerContext(settings=settings, sessionmaker=create_sessionmaker(engine))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()

    def drain() -> None:
        if stop.is_set():
            return
        stop.set()
        log.info("worker draining", grace_seconds=settings.shutdown_grace_seconds)
        if main is not None:
            loop.call_later(settings.shutdown_grace_seconds, main.cancel)

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, drain)
    names_run = select_jobs(only)
    schedule = _Schedule(names_run)
    ok = True
    log.info("worker started", jobs=len(names_run))
    try:
        while not stop.is_set():
            now = time.monotonic()
            names = names_run if once else schedule.due(now)
            results = await run_jobs_once(context, names, stop=stop)
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
    except asyncio.CancelledError:
        if not stop.is_set():
            raise
        log.warning("worker stopped at the grace deadline", code="shutdown_grace_exceeded")
        return False
    finally:
        log.info("worker stopped")
        await engine.dispose()
