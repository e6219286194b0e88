"""Read Locust's ``*_stats.csv``: the per-endpoint table and the C13 p95 gate.

    python -m load.gate reports/load-<UTC>_stats.csv [--budget-ms 500]

Exit 0 when every non-model endpoint's p95 is within the budget and no legitimate request
failed, 1 otherwise. Endpoints named ``... (model)`` include the model's own time and are
reported but not gated; the attacker's refused logins (``... (attacker)``) are expected, not
failures, and their latency is not held to the budget either.
"""

from __future__ import annotations

import argparse
import csv
import sys
from dataclasses import dataclass
from pathlib import Path

BUDGET_MS = 500.0  # checklist C13; docs/performance.md states the far lower goal
MODEL_SUFFIX = "(model)"
ATTACKER_SUFFIX = "(attacker)"  # refused logins: expected, and their latency is not the users'


def say(text: str = "", *, err: bool = False) -> None:
    """One line to the terminal (the load tools' whole user interface)."""
    (sys.stderr if err else sys.stdout).write(text + "\n")


@dataclass(frozen=True)
class Endpoint:
    method: str
    name: str
    requests: int
    failures: int
    rps: float
    p50: float | None
    p95: float | None
    p99: float | None

    @property
    def gated(self) -> bool:
        return not self.name.endswith((MODEL_SUFFIX, ATTACKER_SUFFIX))


def _ms(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None  # "N/A": no samples


def read_stats(path: Path) -> list[Endpoint]:
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [
        Endpoint(
            method=row["Type"],
            name=row["Name"],
            requests=int(row["Request Count"]),
            failures=int(row["Failure Count"]),
            rps=float(row["Requests/s"]),
            p50=_ms(row["50%"]),
            p95=_ms(row["95%"]),
            p99=_ms(row["99%"]),
        )
        for row in rows
        if row["Name"] != "Aggregated"
    ]


def violations(endpoints: list[Endpoint], budget_ms: float = BUDGET_MS) -> list[str]:
    problems = []
    for e in endpoints:
        if e.gated and e.p95 is not None and e.p95 > budget_ms:
            problems.append(f"{e.name}: p95 {e.p95:.0f} ms > {budget_ms:.0f} ms")
        if e.failures:
            problems.append(f"{e.name}: {e.failures} failed requests")
    return problems


def render(endpoints: list[Endpoint], budget_ms: float = BUDGET_MS) -> str:
    def cell(value: float | None) -> str:
        return "-" if value is None else f"{value:.0f}"

    limit = f"p95 <= {budget_ms:.0f}"
    lines = [
        "| endpoint | requests | failures | req/s | p50 ms | p95 ms | p99 ms | gated |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for e in sorted(endpoints, key=lambda e: e.name):
        lines.append(
            f"| {e.name} | {e.requests} | {e.failures} | {e.rps:.1f} | {cell(e.p50)} | "
            f"{cell(e.p95)} | {cell(e.p99)} | {limit if e.gated else 'no'} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("stats_csv", type=Path)
    parser.add_argument("--budget-ms", type=float, default=BUDGET_MS)
    args = parser.parse_args(argv)
    endpoints = read_stats(args.stats_csv)
    say(render(endpoints, args.budget_ms))
    problems = violations(endpoints, args.budget_ms)
    for line in problems:
        say(f"OVER BUDGET: {line}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
