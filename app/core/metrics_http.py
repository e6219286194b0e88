"""Metrics exposition and the per-request observation (the route: app/monitoring/router.py).

Why a token on the API port rather than a second port: one listener to deploy, firewall and
health-check, and the scrape goes through the same TLS edge as everything else; see
docs/decisions/ for the trade-off. The route is invisible (404) until ``METRICS_TOKEN`` is set,
answers 401 to a missing or wrong token (compared in constant time), and is not in the OpenAPI
schema. Metric labels are bounded (route templates, status classes, enums, workspace buckets), so
the exposition carries no path, id or address.

Several uvicorn workers: when ``PROMETHEUS_MULTIPROC_DIR`` is set (``serve --workers N`` sets it
for N > 1), every worker writes its samples there and any worker's ``/metrics`` answers for all
of them (prometheus-client's multiprocess mode).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from app.core.metrics import HTTP_5XX, HTTP_REQUEST_DURATION, REGISTRY

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Methods outside this set are folded into one label value: a client cannot mint series.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def prepare_multiprocess_dir() -> None:
    """Several uvicorn workers share one metrics directory (prometheus-client multiprocess mode).

    Called by ``serve --workers N`` before the workers start (they inherit the variable); emptied
    first, since samples of a previous run's processes would otherwise be summed into this one's.
    """
    directory = os.environ.get(MULTIPROC_ENV)
    if not directory:
        directory = tempfile.mkdtemp(prefix="launchproof-metrics-")
        os.environ[MULTIPROC_ENV] = directory
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink()


def observe_request(method: str | None, route: str, status: int, seconds: float) -> None:
    """Record one request: latency by route template/method/status class, and 5xx by route."""
    label_method = method if method in KNOWN_METHODS else "OTHER"
    HTTP_REQUEST_DURATION.labels(
        route=route, method=label_method, status=f"{status // 100}xx"
    ).observe(seconds)
    if status >= 500:
        HTTP_5XX.labels(route=route).inc()


def exposition() -> bytes:
    """The text exposition: this process's registry, or every worker's in multiprocess mode."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(REGISTRY)
