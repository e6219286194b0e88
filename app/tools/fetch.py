"""The HTTP fetch tool, through the one outbound-HTTP guard (``app.core.outbound``).

The bot's ``allowed_domains`` is the allowlist; https only outside development and tests; every
resolved address is checked and the connection pinned to it; no redirects followed; body and time
capped. What comes back to the model is text and a status, never headers that could carry
credentials. Refusals and failures surface as the tool call's outcome (``error`` + reason code).
"""

from __future__ import annotations

import json
from ipaddress import ip_address

from app.core.config import Environment
from app.core.outbound import OutboundRequest, fetch, policy_for
from app.tools.context import ToolContext

MAX_BODY_BYTES = 256 * 1024
MAX_TEXT_CHARS = 4000
TIMEOUT_SECONDS = 10.0


async def fetch_for_tool(ctx: ToolContext, url: str) -> str:
    settings = ctx.settings
    policy = policy_for(
        settings,
        allowed_domains=frozenset(ctx.allowed_domains),
        allow_http=settings.environment is not Environment.PRODUCTION,
        dev_allowed_addresses=frozenset(
            ip_address(address) for address in settings.outbound_dev_allowed_addresses
        ),
        max_response_bytes=MAX_BODY_BYTES,
        truncate_oversize_body=True,
        timeout_seconds=TIMEOUT_SECONDS,
    )
    response = await fetch(OutboundRequest(url), policy)
    text = response.body.decode("utf-8", errors="replace")
    return json.dumps(
        {
            "status": response.status_code,
            "content_type": response.headers.get("content-type", ""),
            "body": text[:MAX_TEXT_CHARS],
            "truncated": response.truncated or len(text) > MAX_TEXT_CHARS,
        }
    )
