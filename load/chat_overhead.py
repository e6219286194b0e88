"""Chat streaming overhead: what Launchproof adds to a streamed answer, and how fast turns persist.

``make bench-chat`` (or ``python -m load.chat_overhead --help``). Starts its own stack on
127.0.0.1 (fresh database, migrations, model stub, uvicorn with one worker), seeds it through the
API, then measures ~50-word replies sequentially and with a few concurrent clients:

1. straight to the stub with the ``openai`` SDK (``stream=True``): first token, total;
2. through ``POST /v1/conversations/{id}/messages`` (SSE): first ``delta``, ``done``;
3. overhead = (2) - (1) per percentile, from the same run;
4. persistence: POST -> user row committed (polled as superuser), ``done`` -> assistant row
   ``complete`` via ``GET .../messages``; and last delta -> ``done`` in every streamed turn;
5. JSON mode (``Accept: application/json``) for comparison.

Each kind runs in ``--rounds`` interleaved rounds (stub, SSE, JSON, stub, ...) so machine drift
hits both sides alike. Prints a table, writes JSON/CSV under ``reports/`` and exits 1 when a gated
p95 exceeds ``BUDGET_MS`` (2 when turns failed or the stack did not start).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import signal
import subprocess
import sys
import time
import traceback
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import psycopg

from load.chat_bench import Bench, Phase
from load.load_env import UNTHROTTLED
from load.seed import seed
from load.stack import ROOT, Stack, running_stack
from load.stats import Row, difference, render, row, write_reports

BUDGET_MS = 500.0  # checklist C13: p95 of non-model work under load
# One user sends every turn (~1,500 a run) and reads back: far above the per-user chat-send and
# read budgets, which are still checked on every request (docs/performance.md, Settings).
BENCH_ENV = {"RATE_LIMIT_CHAT_SEND": UNTHROTTLED, "RATE_LIMIT_READ": UNTHROTTLED}


def summarize(phases: list[Phase]) -> list[Row]:
    """Per concurrency: both paths, the overheads, where time goes; then the persistence rows.

    Overheads subtract the stub at the same concurrency (as the scenario defines it) and, for
    concurrency > 1, also the sequential stub: on a small machine the load generator's own SDK
    work inflates the concurrent stub baseline, so the second figure is the conservative one.
    Both are gated.
    """
    by = {(p.kind, p.concurrency): p.samples for p in phases}
    rows: list[Row | None] = []
    base: tuple[Row | None, Row | None] = (None, None)
    for c in sorted({p.concurrency for p in phases if p.kind == "sse"}):
        stub, sse, js = by[("stub", c)], by[("sse", c)], by[("json", c)]
        stub_first = row("stub direct: first token", c, stub, lambda s: s.ttft_ms)
        stub_total = row("stub direct: total", c, stub, lambda s: s.total_ms)
        lp_first = row("launchproof SSE: first delta", c, sse, lambda s: s.ttft_ms)
        lp_total = row("launchproof SSE: done", c, sse, lambda s: s.total_ms)
        json_total = row("launchproof JSON: response", c, js, lambda s: s.total_ms)
        rows += [stub_first, stub_total, lp_first, lp_total, json_total]
        rows.append(difference("overhead: first token (SSE - stub)", lp_first, stub_first))
        rows.append(difference("overhead: total (SSE done - stub total)", lp_total, stub_total))
        rows.append(difference("overhead: JSON response - stub total", json_total, stub_total))
        if c == 1:
            base = (stub_first, stub_total)
        elif base[0] is not None:
            rows.append(difference("overhead vs sequential stub: first token", lp_first, base[0]))
            rows.append(difference("overhead vs sequential stub: total", lp_total, base[1]))
            rows.append(difference("overhead vs sequential stub: JSON", json_total, base[1]))
        rows.append(row("SSE: POST -> response headers", c, sse, lambda s: s.headers_ms))
        rows.append(row("SSE: last delta -> done (answer stored)", c, sse, lambda s: s.tail_ms))
        rows.append(row("stub: last delta -> end of stream", c, stub, lambda s: s.tail_ms))
    persist = by.get(("persist", 1), [])
    committed = row("persist: POST -> user row committed", 1, persist, lambda s: s.user_commit_ms)
    headers = row("persist: POST -> response headers", 1, persist, lambda s: s.headers_ms)
    visible = row("persist: done -> GET shows complete", 1, persist, lambda s: s.done_to_visible_ms)
    rows += [gate(committed), headers, gate(visible)]
    return [r for r in rows if r is not None]


def gate(r: Row | None) -> Row | None:
    return None if r is None else replace(r, gated=True)


def _git(*args: str) -> str:
    result = subprocess.run(  # noqa: S603 - fixed git arguments
        ["git", *args],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip()


async def _postgres_version(stack: Stack) -> str:
    async with await psycopg.AsyncConnection.connect(stack.admin_dsn) as db:
        cursor = await db.execute("SHOW server_version")
        found = await cursor.fetchone()
    return str(found[0]) if found else "?"


def machine() -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu,
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


async def main_async(stack: Stack, args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    seeded = await seed(stack, conversations=args.conversations, history_turns=args.history_turns)
    seeding_s = time.perf_counter() - started
    bench = Bench(stack, seeded, args)
    load_before = os.getloadavg()
    await bench.prepare()
    phases = await bench.measure()
    return {
        "phases": phases,
        "seeding_s": round(seeding_s, 1),
        "loadavg_before": load_before,
        "loadavg_after": os.getloadavg(),
        "postgres": await _postgres_version(stack),
        "request_messages": len(bench.request.get("messages", [])),
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m load.chat_overhead",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--turns", type=int, default=200, help="per kind and concurrency")
    parser.add_argument("--seconds", type=float, default=60, help="cap per kind and concurrency")
    parser.add_argument(
        "--concurrency",
        type=lambda v: [int(x) for x in v.split(",")],
        default=[1, 4, 8],
        help="comma-separated client counts (default 1,4,8)",
    )
    parser.add_argument("--rounds", type=int, default=4, help="interleaved rounds per level")
    parser.add_argument("--conversations", type=int, default=8)
    parser.add_argument("--history-turns", type=int, default=20, help="seeded turns each")
    parser.add_argument("--persistence-turns", type=int, default=100)
    parser.add_argument("--reports", type=Path, default=ROOT / "reports")
    args = parser.parse_args(argv)
    args.conversations = max(args.conversations, *args.concurrency)
    return args


def say(text: str) -> None:
    sys.stdout.write(text + "\n")


def _terminate(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through the stack's cleanup


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    label = "chat_overhead-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    args.reports.mkdir(parents=True, exist_ok=True)
    try:
        with running_stack(args.reports, label, extra_env=BENCH_ENV) as stack:
            result = asyncio.run(main_async(stack, args))
    except KeyboardInterrupt:
        sys.stderr.write("interrupted: every process stopped, the database dropped\n")
        return 130
    except Exception:  # setup or seeding failed: not a measurement, never exit 1 (over budget)
        traceback.print_exc()
        sys.stderr.write(
            "error: the benchmark did not run (whatever it started is stopped and dropped)\n"
        )
        return 2
    phases: list[Phase] = result.pop("phases")
    rows = summarize(phases)
    samples = [s for p in phases for s in p.samples]
    dirty = _git("status", "--porcelain", "--untracked-files=no")
    meta = {
        "label": label,
        "commit": _git("rev-parse", "--short", "HEAD"),
        "working_tree_changes": len(dirty.splitlines()),
        "machine": machine(),
        "budget_ms": BUDGET_MS,
        "args": {k: str(v) for k, v in vars(args).items()},
        **result,
        "phases": [p.summary() for p in phases],
        "persist_complete_on_first_get": sum(
            s.visible_reads == 1 for p in phases for s in p.samples if p.kind == "persist"
        ),
    }
    files = write_reports(args.reports, label, rows, samples, meta)
    say(render(rows, BUDGET_MS))
    for p in meta["phases"]:
        say("  ".join(f"{k}={v}" for k, v in p.items()))
    say("reports: " + ", ".join(os.path.relpath(f, ROOT) for f in files))
    reads = [s.visible_reads for s in samples if s.visible_reads is not None]
    say(f"persist: assistant row complete on the first GET: {reads.count(1)}/{len(reads)}")
    errors = [s for s in samples if s.error is not None]
    if errors:
        say(f"FAILED: {len(errors)} turns failed, e.g. {errors[0].error}")
        return 2
    over = [r for r in rows if r.gated and r.p95 > BUDGET_MS]
    if over:
        names = ", ".join(f"{r.measure} @{r.concurrency}" for r in over)
        say(f"OVER BUDGET ({BUDGET_MS:.0f} ms p95): {names}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
