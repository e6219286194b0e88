"""The load suite itself works: a few seconds of the Locust mix against a started stack with zero
failures, and the C13 gate refuses a stats file over budget (checklist C13; docs/performance.md).

The smoke run is the real thing, bounded: ``python -m load.locust_run`` starts its own stack
(fresh database on ``DATABASE_URL``, migrations, model stub, uvicorn), seeds it through the API
and runs Locust headless. Figures from it mean nothing; only "it runs, nothing fails" does.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

from load import gate

pytestmark = pytest.mark.checklist(
    "C13",
    red="let the load gate (load/gate.py) pass a non-model p95 over 500 ms or a run with failures",
)

ROOT = Path(__file__).resolve().parents[2]
HEADER = [
    "Type", "Name", "Request Count", "Failure Count", "Median Response Time",
    "Average Response Time", "Min Response Time", "Max Response Time", "Average Content Size",
    "Requests/s", "Failures/s", "50%", "66%", "75%", "80%", "90%", "95%", "98%", "99%",
    "99.9%", "99.99%", "100%",
]  # fmt: skip


def _stats(path: Path, rows: list[tuple[str, str, int, float]]) -> Path:
    """A Locust-format stats CSV: (method, name, failures, p95) per row, plus Aggregated."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for method, name, failures, p95 in [*rows, ("", "Aggregated", 0, 9999.0)]:
            writer.writerow(
                [method, name, 100, failures, 20, 25, 5, p95 + 10, 300, 10.0, 0.0, 20, 22, 24,
                 26, 40, p95, p95, p95 + 5, p95 + 10, p95 + 10, p95 + 10]
            )  # fmt: skip
    return path


def test_gate_fails_a_non_model_endpoint_over_budget(tmp_path: Path) -> None:
    over = _stats(tmp_path / "over_stats.csv", [("GET", "GET /v1/me", 0, 620.0)])
    assert gate.main([str(over)]) == 1
    assert gate.main([str(over), "--budget-ms", "700"]) == 0


def test_gate_ignores_model_and_attacker_time_but_not_failures(tmp_path: Path) -> None:
    model = f"POST /v1/conversations/[id]/messages, whole stream {gate.MODEL_SUFFIX}"
    attacker = f"POST /v1/auth/login {gate.ATTACKER_SUFFIX}"
    slow_model = _stats(
        tmp_path / "model_stats.csv", [("SSE", model, 0, 4000.0), ("POST", attacker, 0, 900.0)]
    )
    assert gate.main([str(slow_model)]) == 0
    failing = _stats(tmp_path / "fail_stats.csv", [("GET", "GET /v1/workspaces", 3, 30.0)])
    assert gate.main([str(failing)]) == 1


@pytest.mark.timeout(90)
def test_locust_mix_runs_headless_with_zero_failures() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "load.locust_run", "--seconds", "6", "--users", "6",
         "--seed-users", "1", "--conversations", "3", "--turns", "1"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=85, check=False,
    )  # fmt: skip
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-4000:]
    assert "| GET /v1/me |" in out, out[-4000:]
    assert "OVER BUDGET" not in out
    assert "Attacker (failed logins from one address)" in out
