"""The state of each dependency: probes, a cached report and the ``launchproof_dependency_up``
gauge (docs/decisions/0013-dependency-loss.md).

Only the database is needed by every route, so only it decides readiness (``/readyz``). Redis
(rate limits), object storage and the scanner are needed by some routes: when one is down those
routes answer 503 on their own, the rest keep serving, and the loss is *reported* here: by
``/readyz/dependencies`` and by the gauge that the alert rules in infra/prometheus/ watch.

Probes run on a timer in each API process (``DependencyMonitor.run``) and on demand when the
report is older than ``REPORT_MAX_AGE_SECONDS``, never more often: an anonymous caller polling
the report cannot multiply the probes sent to the dependencies.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import structlog
from fastapi import FastAPI

from app.core.metrics import DEPENDENCY_UP
from app.health.repository import DatabaseProbe

log = structlog.get_logger()
CHECK_TIMEOUT_SECONDS = 2.0
REPORT_MAX_AGE_SECONDS = 5.0
REFRESH_INTERVAL_SECONDS = 15.0

# A check raises (or returns False) when its dependency cannot serve; it names no host or URL.
Check = Callable[[FastAPI], Awaitable[bool]]


async def check_database(app: FastAPI) -> bool:
    async with app.state.sessionmaker() as session:
        await DatabaseProbe(session).ping()  # SELECT 1
    return True


async def _redis(app: FastAPI) -> bool:
    # The rate limiter's own connection pool: the dependency requests actually use. PING.
    healthy: bool = await app.state.rate_limiter.storage.check()
    return healthy


async def _storage(app: FastAPI) -> bool:
    # Local: the directory is writable; S3: HeadBucket on the configured bucket.
    healthy: bool = await app.state.storage.check()
    return healthy


async def _scanner(app: FastAPI) -> bool:
    # clamd answers zPING with PONG.
    healthy: bool = await app.state.scanner.ping()
    return healthy


def dependency_checks(app: FastAPI) -> list[tuple[str, Check]]:
    """Every dependency the API talks to, by the name reports and the gauge use."""
    checks: list[tuple[str, Check]] = [("database", check_database)]
    if app.state.settings.redis_url is not None:
        checks.append(("redis", _redis))
    # --- Files: object storage always; clamd when a scanner is configured (app/files) ---
    checks.append(("storage", _storage))
    if app.state.scanner is not None:
        checks.append(("scanner", _scanner))
    return checks


async def probe(app: FastAPI, name: str, check: Check) -> bool:
    """Run one check with a short timeout; record the result in the gauge."""
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            if await check(app):
                DEPENDENCY_UP.labels(dependency=name).set(1)
                return True
        log.warning("dependency check failed", dependency=name)
    except Exception as exc:
        log.warning("dependency check failed", dependency=name, error=type(exc).__name__)
    DEPENDENCY_UP.labels(dependency=name).set(0)  # alerts: infra/prometheus/alerts.yml
    return False


class DependencyMonitor:
    """The last result of every check, refreshed on a timer and at most every few seconds."""

    def __init__(self) -> None:
        self.states: dict[str, bool] = {}
        self.checked_at = float("-inf")
        self._lock = asyncio.Lock()

    async def refresh(self, app: FastAPI) -> dict[str, bool]:
        checks = dependency_checks(app)
        results = await asyncio.gather(*(probe(app, name, check) for name, check in checks))
        self.states = {name: ok for (name, _check), ok in zip(checks, results, strict=True)}
        self.checked_at = time.monotonic()
        return self.states

    async def report(self, app: FastAPI) -> dict[str, bool]:
        """The states, probed again only when older than ``REPORT_MAX_AGE_SECONDS``."""
        async with self._lock:  # concurrent callers share one round of probes
            if time.monotonic() - self.checked_at > REPORT_MAX_AGE_SECONDS:
                await self.refresh(app)
            return dict(self.states)

    async def run(self, app: FastAPI) -> None:
        """Keep the gauge current without anyone polling (cancelled at shutdown)."""
        while True:
            try:
                async with self._lock:
                    await self.refresh(app)
            except Exception as exc:  # a probe bug must not end the loop
                log.warning("dependency monitor failed", error=type(exc).__name__)
            await asyncio.sleep(REFRESH_INTERVAL_SECONDS)
