"""CSP violation reports from browsers: bounded, parsed totally, counted, never stored.

Both wire formats arrive here: ``report-uri`` posts ``application/csp-report``
(``{"csp-report": {...}}``) and the Reporting API posts ``application/reports+json`` (a list of
``{"type": "csp-violation", "body": {...}}``). Anyone can post, so the body is capped while it is
read, the client IP has a budget (``RATE_LIMIT_CSP_REPORT``, failing open: a report is never
worth a 503), and only a directive from a fixed set becomes a metric label. Nothing of the
report is logged but that directive: ``blocked-uri`` and ``document-uri`` may carry tokens.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import structlog

from app.core.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType
from app.core.metrics import CSP_VIOLATIONS

log = structlog.get_logger()

MAX_REPORT_BYTES = 8 * 1024
MAX_REPORTS_PER_BODY = 20
REPORT_TYPES = frozenset({"application/csp-report", "application/reports+json", "application/json"})
# Label values the counter may take; anything else is "other" (a series per attacker string
# would be a denial of service on Prometheus).
DIRECTIVES = frozenset(
    {
        "script-src",
        "script-src-elem",
        "script-src-attr",
        "style-src",
        "style-src-elem",
        "style-src-attr",
        "img-src",
        "connect-src",
        "font-src",
        "form-action",
        "frame-src",
        "frame-ancestors",
        "base-uri",
        "object-src",
        "default-src",
        "require-trusted-types-for",
        "trusted-types",
    }
)


def check_media_type(content_type: str) -> None:
    if content_type.split(";", 1)[0].strip().lower() not in REPORT_TYPES:
        raise UnsupportedMediaType(
            "Send a CSP report (application/csp-report or application/reports+json).",
            code="csp_report_media_type",
        )


async def read_capped(chunks: AsyncIterator[bytes]) -> bytes:
    """The whole body, or 413 the moment it passes ``MAX_REPORT_BYTES`` (never buffered past)."""
    body = bytearray()
    async for chunk in chunks:
        body += chunk
        if len(body) > MAX_REPORT_BYTES:
            raise PayloadTooLarge("A CSP report is at most 8 KiB.", code="csp_report_too_large")
    return bytes(body)


def _violations(document: Any) -> list[dict[str, Any]]:
    if isinstance(document, dict) and isinstance(document.get("csp-report"), dict):
        return [document["csp-report"]]
    if isinstance(document, list) and len(document) <= MAX_REPORTS_PER_BODY:
        bodies = [
            item.get("body")
            for item in document
            if isinstance(item, dict) and item.get("type") == "csp-violation"
        ]
        if len(bodies) == len(document) and all(isinstance(b, dict) for b in bodies):
            return [b for b in bodies if isinstance(b, dict)]
    raise BadRequest("Not a CSP violation report.", code="csp_report_invalid")


def _directive(violation: dict[str, Any]) -> str:
    raw = (
        violation.get("effective-directive")
        or violation.get("effectiveDirective")
        or violation.get("violated-directive")
        or ""
    )
    name = raw.split(" ", 1)[0].lower() if isinstance(raw, str) else ""
    return name if name in DIRECTIVES else "other"


def record(body: bytes) -> int:
    """Count every violation in ``body``; 400 problem+json unless it is a well-formed report."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        raise BadRequest("The report is not JSON.", code="csp_report_invalid") from None
    violations = _violations(document)
    for violation in violations:
        directive = _directive(violation)
        CSP_VIOLATIONS.labels(directive=directive).inc()
        log.warning("csp violation reported", directive=directive)
    return len(violations)
