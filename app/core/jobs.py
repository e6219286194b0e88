"""The background-job registry, below every domain: what a job receives and how it is named.

A domain declares its jobs in ``app/<domain>/jobs.py`` as ``JOBS`` (a tuple of ``Job``);
``app/worker.py`` composes them into one ``JobRegistry`` and runs it. A job receives a
``WorkerContext`` (the settings and a sessionmaker), opens its own transactions and returns how
many items it handled. Names are what ``python -m app worker --jobs a,b`` takes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.config import Settings


@dataclass(frozen=True)
class WorkerContext:
    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]


JobFunction = Callable[[WorkerContext], Awaitable[int]]


@dataclass(frozen=True)
class Job:
    name: str
    run: JobFunction
    every_seconds: float


class JobRegistry:
    """Every job of the process, in registration order; a name is registered once."""

    def __init__(self, *groups: Iterable[Job]) -> None:
        self._jobs: dict[str, Job] = {}
        for group in groups:
            for job in group:
                self.register(job)

    def register(self, job: Job) -> None:
        if job.name in self._jobs:
            raise ValueError(f"job {job.name!r} is registered twice")
        self._jobs[job.name] = job

    def __getitem__(self, name: str) -> Job:
        return self._jobs[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._jobs)

    def __len__(self) -> int:
        return len(self._jobs)

    def select(self, only: list[str] | None) -> list[str]:
        """All job names, or the named ones in registration order (a dedicated worker per
        queue). Raises ValueError naming the unknown ones, so a typo fails at start."""
        if not only:
            return list(self._jobs)
        unknown = sorted(set(only) - set(self._jobs))
        if unknown:
            known = ", ".join(self._jobs)
            raise ValueError(f"unknown jobs: {', '.join(unknown)} (known: {known})")
        return [name for name in self._jobs if name in only]
