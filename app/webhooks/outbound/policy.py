"""The outbound-HTTP policy for webhook deliveries, and the URL check used at registration.

Any public host (customers choose their receivers), never a private, loopback, link-local,
metadata or CGNAT address in any spelling (``app/core/outbound``). Production: https on port
443 (plus ``WEBHOOK_ALLOWED_PORTS``). Development and test: http and any port, so a receiver on
loopback works once its address is in ``OUTBOUND_DEV_ALLOWED_ADDRESSES`` (refused in production).
The same check runs at registration *and* at every delivery, because DNS can change in between.
"""

from __future__ import annotations

from ipaddress import ip_address

from app.core.config import Environment, Settings
from app.core.errors import Unprocessable
from app.core.outbound import (
    CheckedTarget,
    OutboundError,
    OutboundPolicy,
    OutboundRefused,
    RefusalReason,
    check_url,
    policy_for,
)
from app.core.outbound.dns import resolver_for
from app.core.outbound.urls import parse_url

# Only a snippet of the answer is kept; the rest is read up to this cap and dropped.
MAX_RESPONSE_BYTES = 64 * 1024
MAX_PAYLOAD_BYTES = 256 * 1024
# Outside production a refused IP literal or private address is most likely a local test
# receiver: say which setting allows it (the sentence names no address: the URL may be anyone's).
LOCAL_REFUSALS = frozenset({RefusalReason.IP_LITERAL.value, RefusalReason.BLOCKED_ADDRESS.value})
DEV_RECEIVER_HINT = (
    "For a local receiver in development, list its IP address in OUTBOUND_DEV_ALLOWED_ADDRESSES "
    "(make run allows 127.0.0.1 through .data/dev.env) and restart the server and worker; "
    "production refuses that setting."
)


def delivery_policy(settings: Settings, url: str) -> OutboundPolicy:
    production = settings.environment is Environment.PRODUCTION
    ports = set(settings.webhook_allowed_ports)
    if not production:
        try:
            ports.add(parse_url(url).port)
        except OutboundRefused:
            pass  # check_url refuses the URL itself with the precise reason
    return policy_for(
        settings,
        allow_any_public_host=True,
        allow_http=not production,
        allowed_ports=frozenset(ports),
        dev_allowed_addresses=frozenset(
            ip_address(address) for address in settings.outbound_dev_allowed_addresses
        ),
        max_response_bytes=MAX_RESPONSE_BYTES,
        truncate_oversize_body=True,
        timeout_seconds=settings.webhook_timeout_seconds,
        max_request_body_bytes=MAX_PAYLOAD_BYTES,
    )


async def check_endpoint_url(settings: Settings, url: str) -> CheckedTarget:
    """Refuse a receiver URL the delivery guard would refuse now (422 with the reason code).

    Advisory: a pass is true at registration time only; every delivery checks again.
    """
    try:
        return await check_url(url, delivery_policy(settings, url), resolver=resolver_for(settings))
    except OutboundError as exc:
        detail = str(exc)
        if settings.environment is not Environment.PRODUCTION and exc.reason_code in LOCAL_REFUSALS:
            detail = f"{detail} {DEV_RECEIVER_HINT}"
        raise Unprocessable(detail, code=f"url_{exc.reason_code}") from None


__all__ = ["RefusalReason", "check_endpoint_url", "delivery_policy"]
