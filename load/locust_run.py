"""``make load``: the Locust creator-platform mix against a stack started here, headless, bounded.

Starts the load stack (``load.stack`` with ``load.load_env``: production settings apart from
TLS, one uvicorn worker on loopback, the real PostgreSQL and Redis), seeds it through the API
(``load.seed_platform``), runs ``load/locustfile.py`` headless for ``LOAD_SECONDS`` with
``LOAD_USERS`` users, writes Locust's CSV, JSON and HTML to ``reports/``, prints p50/p95/p99 and
throughput per endpoint and the attacker's 429 share, and exits 1 when a non-model endpoint's
p95 exceeds ``load.gate.BUDGET_MS`` or a legitimate request failed (2: the run itself failed).

``--steps 5,10,20,40`` runs one bounded Locust run per user count on the same stack instead and
plots p50/p95/p99 of the non-model requests against users (``--plot``, a PNG).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from load.gate import ATTACKER_SUFFIX, BUDGET_MS, MODEL_SUFFIX, read_stats, render, say, violations
from load.load_env import WEBHOOK_SECRET, WEBHOOK_SOURCE, load_server_env
from load.seed_platform import seed_platform
from load.stack import ROOT, running_stack

REPORTS = ROOT / "reports"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_locust(
    api_url: str, platform_file: Path, prefix: Path, *, users: int, seconds: int, probe: bool
) -> tuple[Path, dict[str, int], dict[str, list[float]]]:
    """One headless Locust run; returns its stats CSV, attacker statuses and raw samples.

    Also prints Locust's own CPU share (its CPU time over the run's wall time, from the
    children's rusage): near 1.0 Locust is saturated (one process, one core) and the curve
    beyond that point measures the load generator, not the server."""
    attacker, samples = Path(f"{prefix}-attacker.json"), Path(f"{prefix}-samples.json")
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "LOAD_PLATFORM_FILE": str(platform_file),
        "LOAD_ATTACKER_FILE": str(attacker),
        "LOAD_SAMPLES_FILE": str(samples),
        "LOAD_PROBE": "1" if probe else "0",
        "LOAD_WEBHOOK_SOURCE": WEBHOOK_SOURCE,
        "LOAD_WEBHOOK_SECRET": WEBHOOK_SECRET,
    }
    command = [
        sys.executable, "-m", "locust", "-f", str(ROOT / "load" / "locustfile.py"),
        "--headless", "--host", api_url, "-u", str(users), "-r", str(max(1, users // 2)),
        "-t", f"{seconds}s", "--stop-timeout", "10", "--only-summary", "--loglevel", "WARNING",
        "--csv", str(prefix), "--html", f"{prefix}.html", "--json-file", f"{prefix}",
        "--exit-code-on-error", "0",
    ]  # fmt: skip
    cpu_before, wall_before = _children_cpu(), time.monotonic()
    completed = subprocess.run(  # noqa: S603 - fixed arguments
        command, env=env, cwd=ROOT, timeout=seconds + 120, check=False,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    share = (_children_cpu() - cpu_before) / max(time.monotonic() - wall_before, 1e-9)
    say(f"Locust's own CPU: {share:.2f} of one core over the run (1.00 = saturated)")
    for line in completed.stdout.splitlines():
        if "WARNING" in line or "Error" in line or "Traceback" in line:
            say(line)
    stats = Path(f"{prefix}_stats.csv")
    if completed.returncode != 0 or not stats.exists():
        raise RuntimeError(f"locust exited {completed.returncode}: {completed.stdout[-3000:]}")
    counts: dict[str, int] = json.loads(attacker.read_text()) if attacker.exists() else {}
    raw: dict[str, list[float]] = json.loads(samples.read_text()) if samples.exists() else {}
    return stats, counts, raw


def attacker_line(counts: dict[str, int]) -> str:
    total = sum(counts.values())
    if not total:
        return "Attacker: no attempts recorded"
    return (
        f"Attacker (failed logins from one address): {total} attempts, statuses {counts}, "
        f"429 share {counts.get('429', 0) / total:.1%}"
    )


def non_model_percentiles(samples: dict[str, list[float]]) -> tuple[float, float, float, int]:
    values = sorted(
        v
        for name, times in samples.items()
        if not name.endswith((MODEL_SUFFIX, ATTACKER_SUFFIX))
        for v in times
    )
    if len(values) < 2:
        return (0.0, 0.0, 0.0, len(values))
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98], len(values)


def plot(points: list[dict[str, float]], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    users = [p["users"] for p in points]
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    for key, style in (("p50", "o-"), ("p95", "s-"), ("p99", "^-")):
        ax.plot(users, [p[key] for p in points], style, label=key)
    ax.axhline(BUDGET_MS, color="red", linestyle="--", linewidth=1, label="C13 budget (p95)")
    ax.set_xlabel("concurrent Locust users")
    ax.set_ylabel("latency, ms (non-model requests)")
    ax.set_title(title, fontsize=10)
    ax.set_xticks(users)
    ax.set_yscale("log")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("LOAD_SECONDS", "75")))
    parser.add_argument("--users", type=int, default=int(os.environ.get("LOAD_USERS", "20")))
    parser.add_argument("--budget-ms", type=float, default=BUDGET_MS)
    parser.add_argument("--seed-users", type=int, default=4, help="creators, one workspace each")
    parser.add_argument("--conversations", type=int, default=40, help="per creator")
    parser.add_argument("--turns", type=int, default=2, help="JSON-mode turns per conversation")
    parser.add_argument("--steps", default="", help="e.g. 5,10,20,40: a step-load series")
    parser.add_argument("--plot", type=Path, default=None,
                        help="the PNG of a --steps series; default: docs/img/load-latency.png, "
                        "or load-latency-<N>workers.png with --workers N > 1")  # fmt: skip
    parser.add_argument("--workers", type=int, default=1, help="serve --workers (1..4)")
    args = parser.parse_args(argv)
    if not 1 <= args.seconds <= 900 or not 1 <= args.users <= 500 or not 1 <= args.workers <= 4:
        parser.error("--seconds must be 1..900, --users 1..500 and --workers 1..4")
    if args.plot is None:  # each server shape keeps its own figure in docs/performance.md
        suffix = f"-{args.workers}workers" if args.workers > 1 else ""
        args.plot = ROOT / "docs" / "img" / f"load-latency{suffix}.png"
    REPORTS.mkdir(exist_ok=True)
    label = f"load-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    try:
        with running_stack(
            REPORTS, label, extra_env=load_server_env(), workers=args.workers
        ) as stack:
            platform = asyncio.run(
                seed_platform(
                    stack,
                    users=args.seed_users,
                    conversations=args.conversations,
                    turns=args.turns,
                )  # fmt: skip
            )
            platform_file = REPORTS / f"{label}-platform.json"
            platform.save(platform_file)
            say(f"seeded {args.seed_users} creators x {args.conversations} conversations")
            if args.steps:
                return _steps(args, label, stack.api_url, platform_file)
            stats, counts, _ = run_locust(
                stack.api_url, platform_file, REPORTS / label,
                users=args.users, seconds=args.seconds, probe=True,
            )  # fmt: skip
    except (RuntimeError, subprocess.SubprocessError) as exc:
        say(f"load run failed: {exc}", err=True)
        return 2
    endpoints = read_stats(stats)
    say(f"\n{args.users} users, {args.seconds} s (reports/{label}_stats.csv, .html, .json)")
    say(render(endpoints, args.budget_ms))
    say(attacker_line(counts))
    problems = violations(endpoints, args.budget_ms)
    for line in problems:
        say(f"OVER BUDGET: {line}")
    return 1 if problems else 0


def _steps(args: argparse.Namespace, label: str, api_url: str, platform_file: Path) -> int:
    points: list[dict[str, float]] = []
    problems: list[str] = []
    for users in (int(n) for n in args.steps.split(",")):
        prefix = REPORTS / f"{label}-u{users}"
        stats, counts, samples = run_locust(
            api_url, platform_file, prefix, users=users, seconds=args.seconds, probe=True
        )
        endpoints = read_stats(stats)
        p50, p95, p99, n = non_model_percentiles(samples)
        rps = sum(e.rps for e in endpoints if e.gated)
        points.append({"users": users, "p50": p50, "p95": p95, "p99": p99, "n": n, "rps": rps})
        say(f"\n{users} users: non-model p50/p95/p99 {p50:.0f}/{p95:.0f}/{p99:.0f} ms, "
              f"{n} requests, {rps:.1f} req/s")  # fmt: skip
        say(render(endpoints, args.budget_ms))
        say(attacker_line(counts))
        problems += [f"{users} users: {p}" for p in violations(endpoints, args.budget_ms)]
    (REPORTS / f"{label}-steps.json").write_text(json.dumps(points, indent=1))
    workers = f"{args.workers} uvicorn worker" + ("s" if args.workers > 1 else "")
    title = f"Launchproof, {workers}, Locust mix, {args.seconds} s per step ({label[5:]})"
    plot(points, args.plot, title)
    say(f"plot: {args.plot}; steps: reports/{label}-steps.json")
    for line in problems:
        say(f"OVER BUDGET: {line}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
