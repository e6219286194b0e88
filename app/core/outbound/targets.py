"""From a URL to the checked addresses we may connect to: one DNS resolution, every answer checked.

A ``Resolver`` is the stand-in for DNS: ``async (host, port) -> address strings``, the shape of
``getaddrinfo``'s answers. ``system_resolver`` is the real one. ``check_target`` resolves once and
refuses the whole target if *any* answer is blocked (an attacker's DNS can mix a public address
with ``127.0.0.1`` and hope the client picks the second). The addresses it returns are the only
ones ``fetch`` connects to, so a DNS server that answers differently a second time (rebinding)
is never asked a second time.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from ipaddress import ip_address

import structlog

from app.core.outbound.addresses import IPAddress, is_blocked
from app.core.outbound.errors import FailureReason, OutboundFailed, OutboundRefused, RefusalReason
from app.core.outbound.policy import OutboundPolicy
from app.core.outbound.urls import DEFAULT_PORTS, ParsedURL, parse_url

Resolver = Callable[[str, int], Awaitable[Sequence[str]]]
log = structlog.get_logger()


async def system_resolver(host: str, port: int) -> list[str]:
    """Resolve with the system's getaddrinfo (both families), as text addresses."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return [
        str(sockaddr[0])
        for family, _type, _proto, _name, sockaddr in infos
        if family in (socket.AF_INET, socket.AF_INET6)
    ]


@dataclass(frozen=True, slots=True)
class CheckedTarget:
    """A URL that passed the policy, with the addresses it resolved to (all of them allowed)."""

    parsed: ParsedURL
    addresses: tuple[IPAddress, ...]

    @property
    def url(self) -> str:
        """The normalised URL: A-label host, default port omitted, no fragment."""
        return self.parsed.url

    @property
    def host(self) -> str:
        return self.parsed.host


async def check_url(
    url: str, policy: OutboundPolicy, *, resolver: Resolver | None = None
) -> CheckedTarget:
    """Check ``url`` against ``policy``, resolving its host once (bounded by the policy timeout).

    Raises ``OutboundRefused`` with the reason, or ``OutboundFailed(timeout)`` when DNS does not
    answer in time. A pass is true *now*: DNS can change, so ``fetch`` checks again itself; use
    this at registration time to reject bad URLs early, not as a permit for later.
    """
    try:
        async with asyncio.timeout(policy.timeout_seconds):
            return await check_target(url, policy, resolver or system_resolver)
    except TimeoutError:
        raise OutboundFailed(FailureReason.TIMEOUT) from None


async def check_target(url: str, policy: OutboundPolicy, resolver: Resolver) -> CheckedTarget:
    """``check_url`` without its own timeout, for callers that hold one already."""
    try:
        parsed = parse_url(url)
        if parsed.scheme == "http" and not policy.allow_http:
            raise OutboundRefused(RefusalReason.SCHEME_NOT_ALLOWED)
        if parsed.ip_literal is not None:
            if parsed.ip_literal not in policy.dev_allowed_addresses:
                raise OutboundRefused(RefusalReason.IP_LITERAL)
        elif not policy.allows_host(parsed.host):
            raise OutboundRefused(RefusalReason.HOST_NOT_ALLOWED)
        if parsed.port != DEFAULT_PORTS[parsed.scheme] and parsed.port not in policy.allowed_ports:
            raise OutboundRefused(RefusalReason.PORT_NOT_ALLOWED)
        if parsed.ip_literal is not None:
            return CheckedTarget(parsed=parsed, addresses=(parsed.ip_literal,))
        addresses = await _resolve(parsed.host, parsed.port, resolver)
        if any(
            address not in policy.dev_allowed_addresses and is_blocked(address)
            for address in addresses
        ):
            raise OutboundRefused(RefusalReason.BLOCKED_ADDRESS)
    except OutboundRefused as exc:
        log.info("outbound request refused", reason=exc.reason_code)
        raise
    return CheckedTarget(parsed=parsed, addresses=addresses)


async def _resolve(host: str, port: int, resolver: Resolver) -> tuple[IPAddress, ...]:
    try:
        answers = await resolver(host, port)
        addresses = tuple(dict.fromkeys(ip_address(answer) for answer in answers))
    except (OSError, UnicodeError, ValueError):
        # OSError covers socket.gaierror; ValueError is an answer that is not an address.
        raise OutboundRefused(RefusalReason.DNS_FAILED) from None
    if not addresses:
        raise OutboundRefused(RefusalReason.DNS_FAILED)
    return addresses
