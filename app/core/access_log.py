"""The access line and the request metrics: one of each per request, written by the edge layer."""

from __future__ import annotations

import time
from typing import Any

import structlog
from starlette.types import Scope

from app.core.metrics_http import observe_request

log = structlog.get_logger()


def route_template(scope: Scope) -> str:
    """The matched route's path template (``/v1/bots/{bot_id}``), never the raw path or query."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    return template if isinstance(template, str) else "<unmatched>"


def log_access(scope: Scope, client_ip: str | None, status: int, started_at: float) -> None:
    """One access line per request: ids only, from the principal the request resolved."""
    fields: dict[str, Any] = {}
    principal = scope.get("state", {}).get("principal")
    context = getattr(principal, "log_context", None)
    if isinstance(context, dict):
        fields.update(context)
    route = route_template(scope)
    seconds = time.perf_counter() - started_at
    observe_request(scope.get("method"), route, status, seconds)
    log.info(
        "request handled",
        method=scope.get("method"),
        route=route,
        status=status,
        duration_ms=round(seconds * 1000, 2),
        client_ip=client_ip,
        **fields,
    )
