"""Prometheus metrics: every metric the service exports is declared here, once.

Labels are bounded by construction: route *templates* (never raw paths), status classes, fixed
outcome enums, and a workspace *bucket* (a keyed hash of the id modulo ``WORKSPACE_BUCKETS``)
instead of the workspace id, so a tenant count never becomes a series count. Domains import the
metric they update; nothing else registers metrics. The request instrumentation and the
exposition live in ``app/core/metrics_http.py``, the ``/metrics`` route in ``app/monitoring/``.
"""

from __future__ import annotations

import hashlib
import uuid

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)
WORKSPACE_BUCKETS = 16

# Request latency buckets tuned around the 500 ms budget (C13) and far below it.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HTTP_REQUEST_DURATION = Histogram(
    "launchproof_http_request_duration_seconds",
    "HTTP request latency by route template, method and status class.",
    ("route", "method", "status"),
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
HTTP_5XX = Counter(
    "launchproof_http_5xx_total",
    "Responses with a 5xx status, by route template.",
    ("route",),
    registry=REGISTRY,
)
AUTH_FAILURES = Counter(
    "launchproof_auth_failures_total",
    "Rejected authentication attempts by reason (bad_password, bad_token, expired, revoked...).",
    ("reason",),
    registry=REGISTRY,
)
RATE_LIMIT_REJECTIONS = Counter(
    "launchproof_rate_limit_rejections_total",
    "Requests refused with 429, by budget name.",
    ("budget",),
    registry=REGISTRY,
)
CSRF_REJECTIONS = Counter(
    "launchproof_csrf_rejections_total",
    "Unsafe cookie-authenticated requests refused by the CSRF check.",
    registry=REGISTRY,
)
CSP_VIOLATIONS = Counter(
    "launchproof_csp_violations_total",
    "CSP violations browsers reported from the console, by directive (a fixed set, else other).",
    ("directive",),
    registry=REGISTRY,
)
SIGNATURE_REJECTIONS = Counter(
    "launchproof_webhook_signature_rejections_total",
    "Inbound webhooks refused before processing, by source and reason.",
    ("source", "reason"),
    registry=REGISTRY,
)
WEBHOOK_DELIVERIES = Counter(
    "launchproof_webhook_deliveries_total",
    "Outgoing webhook delivery attempts by outcome (success, failure, refused, disabled).",
    ("outcome",),
    registry=REGISTRY,
)
WEBHOOK_QUEUE_LAG = Gauge(
    "launchproof_webhook_queue_lag_seconds",
    "Age of the oldest due, undelivered outgoing webhook (0 when none).",
    registry=REGISTRY,
)
WEBHOOK_QUEUE_DEPTH = Gauge(
    "launchproof_webhook_queue_depth",
    "Outgoing webhook deliveries waiting to be sent.",
    registry=REGISTRY,
)
FILE_SCANS = Counter(
    "launchproof_file_scans_total",
    "Malware scans by outcome (clean, infected, error).",
    ("outcome",),
    registry=REGISTRY,
)
SCANNER_UP = Gauge(
    "launchproof_scanner_up",
    "1 when the last contact with clamd succeeded, 0 when it failed.",
    registry=REGISTRY,
)
EMAIL_DELIVERIES = Counter(
    "launchproof_email_deliveries_total",
    "Platform e-mail send attempts by outcome (sent, retry, failed).",
    ("outcome",),
    registry=REGISTRY,
)
EMAIL_QUEUE_DEPTH = Gauge(
    "launchproof_email_queue_depth",
    "Platform e-mails waiting to be sent (pending in the outbox).",
    registry=REGISTRY,
)
EMAIL_QUEUE_LAG = Gauge(
    "launchproof_email_queue_lag_seconds",
    "How long the oldest pending platform e-mail has been due (0 when none).",
    registry=REGISTRY,
)
MODEL_LATENCY = Histogram(
    "launchproof_model_request_duration_seconds",
    "Model provider call latency (time to the end of the answer) by model.",
    ("model",),
    buckets=(0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
    registry=REGISTRY,
)
MODEL_TOKENS = Counter(
    "launchproof_model_tokens_total",
    "Model tokens by kind (prompt, completion) and workspace bucket.",
    ("kind", "workspace_bucket"),
    registry=REGISTRY,
)
DEPENDENCY_UP = Gauge(
    "launchproof_dependency_up",
    "1 when the last check of a dependency (database, redis, storage, scanner) passed, else 0.",
    ("dependency",),
    registry=REGISTRY,
    multiprocess_mode="liveall",  # a restarted worker's last value must not linger
)


def workspace_bucket(workspace_id: uuid.UUID) -> str:
    """A stable bucket label for a workspace: bounded cardinality, no tenant id in metrics."""
    digest = hashlib.blake2s(workspace_id.bytes, digest_size=2).digest()
    return str(int.from_bytes(digest, "big") % WORKSPACE_BUCKETS)
