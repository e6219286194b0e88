"""Percentiles, the overhead rows, the printed table and the files under ``reports/``."""

from __future__ import annotations

import csv
import json
import statistics
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from load.chat_client import Sample

PERCENTILES = (50, 95, 99)


@dataclass(frozen=True)
class Row:
    """One line of the table: a measure at a concurrency, p50/p95/p99 in milliseconds."""

    measure: str
    concurrency: int
    n: int
    p50: float
    p95: float
    p99: float
    gated: bool = False  # counts against the budget

    def worst(self) -> float:
        return self.p95


def percentiles(values: Iterable[float]) -> tuple[float, float, float] | None:
    """p50/p95/p99 with linear interpolation between order statistics (numpy's default).

    With 200 samples p99 sits between the 2nd and 3rd largest values: read it as "the tail".
    """
    data = sorted(values)
    if len(data) < 2:
        return None
    cuts = statistics.quantiles(data, n=100, method="inclusive")
    p50, p95, p99 = (cuts[p - 1] for p in PERCENTILES)
    return p50, p95, p99


def row(
    measure: str,
    concurrency: int,
    samples: list[Sample],
    value: Callable[[Sample], float | None],
) -> Row | None:
    values = [v for s in samples if s.error is None and (v := value(s)) is not None]
    pcts = percentiles(values)
    if pcts is None:
        return None
    return Row(measure, concurrency, len(values), *pcts)


def difference(measure: str, minuend: Row | None, subtrahend: Row | None) -> Row | None:
    """Overhead per percentile: p(Launchproof) - p(stub), from two same-run distributions.

    A difference of percentiles, not a percentile of per-turn differences (the two paths are
    separate requests; there is no pairing to difference).
    """
    if minuend is None or subtrahend is None:
        return None
    return Row(
        measure,
        minuend.concurrency,
        min(minuend.n, subtrahend.n),
        minuend.p50 - subtrahend.p50,
        minuend.p95 - subtrahend.p95,
        minuend.p99 - subtrahend.p99,
        gated=True,
    )


def render(rows: list[Row], budget_ms: float) -> str:
    header = f"{'measure':<46} {'conc':>4} {'n':>5} {'p50':>8} {'p95':>8} {'p99':>8}"
    lines = [header, "-" * len(header)]
    previous: Row | None = None
    for r in rows:
        if previous is not None and (
            previous.concurrency != r.concurrency
            or r.measure.startswith("persist") != previous.measure.startswith("persist")
        ):
            lines.append("")
        previous = r
        flag = "  OVER BUDGET" if r.gated and r.p95 > budget_ms else ""
        mark = "*" if r.gated else " "
        lines.append(
            f"{mark}{r.measure:<45} {r.concurrency:>4} {r.n:>5} "
            f"{r.p50:>8.1f} {r.p95:>8.1f} {r.p99:>8.1f}{flag}"
        )
    lines.append(f"(ms; * = gated: p95 must stay under {budget_ms:.0f} ms)")
    return "\n".join(lines)


SAMPLE_FIELDS = (
    "kind",
    "concurrency",
    "seq",
    "total_ms",
    "ttft_ms",
    "headers_ms",
    "tail_ms",
    "deltas",
    "user_commit_ms",
    "done_to_visible_ms",
    "visible_reads",
    "error",
)


def write_reports(
    reports: Path, label: str, rows: list[Row], samples: list[Sample], meta: dict[str, Any]
) -> list[Path]:
    """``<label>.json`` (metadata + summary), ``<label>-summary.csv``, ``<label>-samples.csv``."""
    reports.mkdir(parents=True, exist_ok=True)
    summary_json = reports / f"{label}.json"
    summary_json.write_text(
        json.dumps({**meta, "rows": [asdict(r) for r in rows]}, indent=2) + "\n",
        encoding="utf-8",
    )
    summary_csv = reports / f"{label}-summary.csv"
    with summary_csv.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=list(Row.__dataclass_fields__))
        writer.writeheader()
        writer.writerows(asdict(r) for r in rows)
    samples_csv = reports / f"{label}-samples.csv"
    with samples_csv.open("w", newline="", encoding="utf-8") as out:
        plain = csv.writer(out)
        plain.writerow(SAMPLE_FIELDS)
        for s in samples:
            plain.writerow([getattr(s, name) for name in SAMPLE_FIELDS])
    return [summary_json, summary_csv, samples_csv]
