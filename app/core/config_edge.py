"""Slow-client timeouts, the console's report budget and the disclosure contact at the HTTP
edge, mixed into the one ``Settings`` class.

Split from ``app/core/config.py`` for its size budget (CONVENTIONS rule 3), like
``config_files.py``: one ``Settings`` object, one environment. docs/files.md ("Slow clients and
timeouts") sets them beside Cloudflare's.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field


def _budget(value: str) -> str:
    from limits import parse_many

    parse_many(value)  # raises ValueError on a malformed budget
    return value


class EdgeTimeoutSettings(BaseModel):
    # A client that sends no body bytes for this long gets 408 (uvicorn has no body timeout).
    request_body_timeout_seconds: float = Field(default=30.0, ge=1.0, le=600.0)
    # A request head (request line + headers) not complete this long after the connection opened
    # (or its previous response ended) gets 408 and the connection closes (slowloris).
    request_head_timeout_seconds: float = Field(default=10.0, ge=1.0, le=120.0)
    # /.well-known/security.txt Contact (RFC 9116): mailto:, https:// or tel:; unset = 404.
    security_contact: str | None = Field(
        default=None, pattern=r"^(mailto:[^\s@]+@[^\s@]+|https://\S+|tel:\+?[0-9 -]+)$"
    )
    # Console CSP violation reports per client IP (app/console/reports.py); fails open.
    rate_limit_csp_report: Annotated[str, AfterValidator(_budget)] = "60/minute"
