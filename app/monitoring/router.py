"""``GET /metrics``: Prometheus exposition for a scraper holding METRICS_TOKEN.

Not in the OpenAPI schema; no principal (a scraper is not a user): the bearer token is compared
in constant time, a missing or wrong one gets 401, and without a configured token the route
answers 404 as if it did not exist (docs/decisions/0008-metrics-behind-a-token.md).
"""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.responses import Response

from app.core.errors import NotFound, Unauthorized
from app.core.metrics_http import exposition

router = APIRouter(include_in_schema=False)


def _authorized(request: Request, token: str) -> bool:
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        presented.strip().encode(), token.encode()
    )


@router.get("/metrics")
async def get_metrics(request: Request) -> Response:
    """Prometheus metrics for a scraper holding METRICS_TOKEN; 404 when no token is configured."""
    secret = request.app.state.settings.metrics_token
    if secret is None:
        raise NotFound("Not found.")
    if not _authorized(request, secret.get_secret_value()):
        raise Unauthorized("A valid metrics token is required.")
    return Response(exposition(), media_type=CONTENT_TYPE_LATEST)
