"""Per-request context: the request id and the one resolved client IP.

Both live in contextvars set by the edge layer (``app.core.middleware.EdgeMiddleware``), so
error handlers, the audit log and log lines read the same values without passing them around.
"""

from __future__ import annotations

import functools
import re
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
_client_ip: ContextVar[str | None] = ContextVar("client_ip", default=None)


Network = IPv4Network | IPv6Network
_INCOMING_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def current_request_id() -> str | None:
    return _request_id.get()


def current_client_ip() -> str | None:
    return _client_ip.get()


@contextmanager
def bound(request_id: str, client_ip: str | None) -> Iterator[None]:
    """Bind the request id and client IP for the duration of one request."""
    id_token = _request_id.set(request_id)
    ip_token = _client_ip.set(client_ip)
    try:
        yield
    finally:
        _request_id.reset(id_token)
        _client_ip.reset(ip_token)


def request_id_for(incoming: str, trusted_peer: bool) -> str:
    """A well-formed ``X-Request-ID`` from a trusted proxy is kept; otherwise a fresh id."""
    return incoming if trusted_peer and _INCOMING_ID.match(incoming) else secrets.token_hex(12)


def _parse_ip(value: str) -> IPv4Address | IPv6Address | None:
    # The same few peers and hops come back on every request, and parsing one costs more than
    # the rest of the lookup: short strings (any address fits) are memoised, in a bounded cache.
    if len(value) <= _MEMO_MAX_CHARS:
        return _parse_ip_memo(value)
    return _parse_ip_text(value)


def _parse_ip_text(value: str) -> IPv4Address | IPv6Address | None:
    try:
        parsed = ip_address(value.strip().strip("[]"))
    except ValueError:
        return None
    # A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d: match them against IPv4 ranges.
    if isinstance(parsed, IPv6Address) and parsed.ipv4_mapped is not None:
        return parsed.ipv4_mapped
    return parsed


_MEMO_MAX_CHARS = 64
_parse_ip_memo = functools.lru_cache(maxsize=4096)(_parse_ip_text)


def is_trusted_peer(peer: str | None, trusted: Sequence[Network]) -> bool:
    peer_ip = _parse_ip(peer) if peer else None
    return peer_ip is not None and any(peer_ip in network for network in trusted)


def resolve_client_ip(
    peer: str | None,
    headers: dict[str, str],
    trusted: Sequence[Network],
    cloudflare: Sequence[Network] = (),
) -> str | None:
    """The client IP as seen through trusted proxies only.

    Forwarding headers are believed only when the socket peer is inside ``trusted`` (Cloudflare's
    ranges, a local proxy). ``CF-Connecting-IP`` is believed only from a peer that is also inside
    ``cloudflare`` (the trusted networks within Cloudflare's published ranges); otherwise the
    right-most address of ``X-Forwarded-For`` that is not itself a trusted proxy. From any other
    peer every forwarding header is ignored (``X-Real-IP``, ``True-Client-IP`` and ``Forwarded``
    are never read), so a client cannot choose its own IP for rate limits or the audit log.
    """
    peer_ip = _parse_ip(peer) if peer else None
    if peer_ip is None:
        return peer
    if not any(peer_ip in network for network in trusted):
        return str(peer_ip)
    if any(peer_ip in network for network in cloudflare):
        cf = _parse_ip(headers.get("cf-connecting-ip", ""))
        if cf is not None:
            return str(cf)
    hops = [_parse_ip(hop) for hop in headers.get("x-forwarded-for", "").split(",")]
    for hop in reversed(hops):
        if hop is None:
            break
        if not any(hop in network for network in trusted):
            return str(hop)
    return str(peer_ip)
