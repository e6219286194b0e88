"""The measured phases: clients, interleaved rounds, CPU accounting (see chat_overhead.py)."""

from __future__ import annotations

import argparse
import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import openai
import psycopg

from app.chat.provider import STUB_API_KEY
from load.chat_client import (
    Sample,
    direct_turn,
    json_turn,
    persistence_turn,
    sse_turn,
    user_text,
)
from load.seed import Seeded
from load.stack import Stack, cpu_seconds

TURN_TIMEOUT_S = 30.0
WARMUP_TURNS = 10
FIRST_SEQ = 200_000  # message tags above the seeding ones: every user text is unique
KINDS = ("stub", "sse", "json")


@dataclass
class Worker:
    """One client: its own connections, its own conversations (never shared mid-turn)."""

    http: httpx.AsyncClient
    model: openai.AsyncOpenAI
    conversations: Iterator[str]


@dataclass
class Phase:
    kind: str
    concurrency: int
    samples: list[Sample] = field(default_factory=list)
    wall_s: float = 0.0
    server_cpu_s: float = 0.0
    stub_cpu_s: float = 0.0
    client_cpu_s: float = 0.0

    def summary(self) -> dict[str, Any]:
        n = len(self.samples) or 1
        return {
            "kind": self.kind,
            "concurrency": self.concurrency,
            "turns": len(self.samples),
            "errors": sum(s.error is not None for s in self.samples),
            "wall_s": round(self.wall_s, 2),
            "turns_per_s": round(len(self.samples) / self.wall_s, 1) if self.wall_s else 0.0,
            "server_cpu_ms_per_turn": round(self.server_cpu_s * 1000 / n, 2),
            "stub_cpu_ms_per_turn": round(self.stub_cpu_s * 1000 / n, 2),
            "client_cpu_ms_per_turn": round(self.client_cpu_s * 1000 / n, 2),
        }


TurnFn = Callable[[Worker, Sample], Awaitable[Sample]]


class Bench:
    def __init__(self, stack: Stack, seeded: Seeded, args: argparse.Namespace) -> None:
        self.stack, self.seeded, self.args = stack, seeded, args
        self.seq = itertools.count(FIRST_SEQ)
        self.request: dict[str, Any] = {}

    def workers(self, concurrency: int) -> list[Worker]:
        convs = self.seeded.conversations
        return [
            Worker(
                http=httpx.AsyncClient(
                    base_url=self.stack.api_url, headers=self.seeded.headers(), timeout=30
                ),
                model=openai.AsyncOpenAI(
                    api_key=STUB_API_KEY, base_url=self.stack.stub_api_base, max_retries=0
                ),
                conversations=itertools.cycle(convs[w::concurrency]),
            )
            for w in range(concurrency)
        ]

    def turn_fn(self, kind: str) -> TurnFn:
        def text(sample: Sample) -> str:
            return user_text(sample.seq)

        if kind == "stub":
            return lambda w, s: direct_turn(w.model, self.request, text(s), s)
        if kind == "sse":
            return lambda w, s: sse_turn(w.http, next(w.conversations), text(s), s)
        return lambda w, s: json_turn(w.http, next(w.conversations), text(s), s)

    async def run(self, phase: Phase, workers: list[Worker], fn: TurnFn, turns: int) -> None:
        """Up to ``turns`` turns or ``--seconds / --rounds`` seconds, whichever comes first."""
        deadline = time.perf_counter() + self.args.seconds / self.args.rounds
        issued = itertools.count()
        cpu = self._cpu()
        start = time.perf_counter()

        async def loop(worker: Worker) -> None:
            while time.perf_counter() < deadline and next(issued) < turns:
                sample = Sample(phase.kind, phase.concurrency, next(self.seq))
                try:
                    async with asyncio.timeout(TURN_TIMEOUT_S):
                        await fn(worker, sample)
                except (httpx.HTTPError, openai.OpenAIError, TimeoutError, KeyError) as exc:
                    sample.error = type(exc).__name__
                phase.samples.append(sample)

        await asyncio.gather(*(loop(w) for w in workers))
        phase.wall_s += time.perf_counter() - start
        after = self._cpu()
        phase.server_cpu_s += after[0] - cpu[0]
        phase.stub_cpu_s += after[1] - cpu[1]
        phase.client_cpu_s += after[2] - cpu[2]

    def _cpu(self) -> tuple[float, float, float]:
        return (
            cpu_seconds(self.stack.server_pid),
            cpu_seconds(self.stack.stub_pid),
            time.process_time(),
        )

    async def prepare(self) -> None:
        """Warm every path up, then copy the completion request Launchproof really sends."""
        workers = self.workers(1)
        for kind in ("sse", "json"):
            await self.run(Phase(kind, 1), workers, self.turn_fn(kind), WARMUP_TURNS)
        async with httpx.AsyncClient(base_url=self.stack.stub_url, timeout=10) as stub:
            recorded = (await stub.get("/_stub/requests")).json()["requests"]
        self.request = recorded[-1]["body"]
        await self.run(Phase("stub", 1), workers, self.turn_fn("stub"), WARMUP_TURNS)
        await _close(workers)

    async def measure(self) -> list[Phase]:
        phases: list[Phase] = []
        per_round = max(1, self.args.turns // self.args.rounds)
        for concurrency in self.args.concurrency:
            workers = self.workers(concurrency)
            level = {kind: Phase(kind, concurrency) for kind in KINDS}
            for _ in range(self.args.rounds):
                for kind in KINDS:
                    await self.run(level[kind], workers, self.turn_fn(kind), per_round)
            await _close(workers)
            phases.extend(level.values())
        persist = Phase("persist", 1)
        workers = self.workers(1)
        async with await psycopg.AsyncConnection.connect(
            self.stack.admin_dsn, autocommit=True
        ) as db:

            def fn(w: Worker, s: Sample) -> Awaitable[Sample]:
                return persistence_turn(w.http, db, next(w.conversations), user_text(s.seq), s)

            await self.run(persist, workers, fn, self.args.persistence_turns)
        await _close(workers)
        return [*phases, persist]


async def _close(workers: list[Worker]) -> None:
    for w in workers:
        await w.http.aclose()
        await w.model.close()
