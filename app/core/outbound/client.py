"""``fetch``: one pinned, capped HTTP exchange with a checked target.

Pinning: httpx is given a URL whose host is the checked IP address, so it never resolves a
name. The original name travels in the ``Host`` header and, for https, in the
``sni_hostname`` request extension, which httpcore passes to the TLS handshake as
``server_hostname``; the SSL context has ``check_hostname`` on, so the certificate is verified
against the *name*, not the IP. This keeps stock httpx (no custom network backend) and one
code path for http and https. Each call uses its own client, so a pooled connection made for
one name and address can never carry a request for another.

Also: redirects are never followed (a 3xx is the result; call ``fetch`` again with its
``location`` to follow it, which re-checks everything); no proxy, netrc or CA settings from
the environment (``trust_env=False``); no cookies sent or kept; ``Accept-Encoding: identity``
and the raw body read with the byte cap enforced chunk by chunk, so a compressed bomb is never
inflated; one deadline (``timeout_seconds``) covers DNS, connect, TLS, upload and the whole body,
so a server that drips one byte a second cannot hold the caller for longer.
"""

from __future__ import annotations

import asyncio
import re
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache

import httpx

from app.core.outbound.addresses import IPAddress
from app.core.outbound.errors import FailureReason, OutboundFailed, OutboundRefused, RefusalReason
from app.core.outbound.policy import OutboundPolicy
from app.core.outbound.targets import CheckedTarget, Resolver, check_target, system_resolver

ALLOWED_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Set by this module (framing, Host, encoding) or never sent (cookies, proxy credentials).
FORBIDDEN_REQUEST_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "upgrade",
        "te",
        "trailer",
        "expect",
        "accept-encoding",
        "cookie",
        "proxy-authorization",
        "proxy-connection",
    }
)
KEPT_RESPONSE_HEADERS = (
    "content-type",
    "content-length",
    "content-encoding",
    "location",
    "retry-after",
    "date",
    "etag",
    "last-modified",
    "cache-control",
)
MAX_REQUEST_HEADERS = 64
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,256}")
_FIELD_VALUE = re.compile(r"[\t\x20-\x7e]{0,8192}")
USER_AGENT = "Launchproof-Outbound/1"


@dataclass(frozen=True, slots=True)
class OutboundRequest:
    url: str
    method: str = "GET"
    headers: Mapping[str, str] = field(default_factory=dict)
    content: bytes = b""


@dataclass(frozen=True, slots=True)
class OutboundResponse:
    """What came back. ``headers`` holds only ``KEPT_RESPONSE_HEADERS`` (lower-case names)."""

    status_code: int
    headers: Mapping[str, str]
    body: bytes
    truncated: bool
    elapsed_seconds: float
    target: CheckedTarget
    address: IPAddress  # the checked address the connection went to

    @property
    def is_redirect(self) -> bool:
        return 300 <= self.status_code < 400


@cache
def _default_ssl_context() -> ssl.SSLContext:
    return httpx.create_ssl_context(trust_env=False)


def _checked_ssl_context(context: ssl.SSLContext | None) -> ssl.SSLContext:
    if context is None:
        return _default_ssl_context()
    if context.verify_mode is not ssl.CERT_REQUIRED or not context.check_hostname:
        raise ValueError("outbound TLS must verify the certificate and the host name")
    return context


def _check_headers(headers: Mapping[str, str]) -> None:
    if len(headers) > MAX_REQUEST_HEADERS:
        raise OutboundRefused(RefusalReason.HEADER_NOT_ALLOWED)
    for name, value in headers.items():
        if (
            not _TOKEN.fullmatch(name)
            or not _FIELD_VALUE.fullmatch(value)
            or name.lower() in FORBIDDEN_REQUEST_HEADERS
        ):
            raise OutboundRefused(RefusalReason.HEADER_NOT_ALLOWED)


async def fetch(
    request: OutboundRequest,
    policy: OutboundPolicy,
    *,
    resolver: Resolver | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> OutboundResponse:
    """Send ``request`` if ``policy`` allows it, to an address checked in this call.

    Raises ``OutboundRefused`` (nothing sent) or ``OutboundFailed`` (timeout, connect or TLS
    failure, body past the cap, protocol error). ``ssl_context`` replaces the default trust store
    (certifi) and must verify certificates and host names. A 3xx is returned, never followed.
    """
    if request.method.upper() not in ALLOWED_METHODS:
        raise OutboundRefused(RefusalReason.METHOD_NOT_ALLOWED)
    _check_headers(request.headers)
    if len(request.content) > policy.max_request_body_bytes:
        raise OutboundRefused(RefusalReason.REQUEST_TOO_LARGE)
    context = _checked_ssl_context(ssl_context)
    started = time.monotonic()
    try:
        async with asyncio.timeout(policy.timeout_seconds):
            target = await check_target(request.url, policy, resolver or system_resolver)
            return await _send(target, request, policy, context, started)
    except TimeoutError:
        raise OutboundFailed(FailureReason.TIMEOUT) from None


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, kind):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class _CouldNotConnect(Exception):
    def __init__(self, reason: FailureReason) -> None:
        self.reason = reason


async def _send(
    target: CheckedTarget,
    request: OutboundRequest,
    policy: OutboundPolicy,
    context: ssl.SSLContext,
    started: float,
) -> OutboundResponse:
    # Every address was checked; trying the next one when a connection cannot be opened is as
    # safe as trying the first (nothing was sent).
    reason = FailureReason.CONNECT_FAILED
    for address in target.addresses:
        try:
            return await _send_to(address, target, request, policy, context, started)
        except _CouldNotConnect as exc:
            reason = exc.reason
    raise OutboundFailed(reason)


async def _send_to(
    address: IPAddress,
    target: CheckedTarget,
    request: OutboundRequest,
    policy: OutboundPolicy,
    context: ssl.SSLContext,
    started: float,
) -> OutboundResponse:
    parsed = target.parsed
    url = httpx.URL(
        scheme=parsed.scheme, host=str(address), port=parsed.port, raw_path=parsed.target.encode()
    )
    client = httpx.AsyncClient(
        verify=context,
        trust_env=False,
        follow_redirects=False,
        timeout=policy.timeout_seconds,
        headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity", "Connection": "close"},
    )
    async with client:
        outgoing = client.build_request(
            request.method.upper(),
            url,
            headers={**request.headers, "Host": parsed.authority},
            content=request.content or None,
            extensions={"sni_hostname": parsed.host} if parsed.scheme == "https" else None,
        )
        try:
            response = await client.send(outgoing, stream=True)
        except httpx.TimeoutException:
            raise OutboundFailed(FailureReason.TIMEOUT) from None
        except httpx.ConnectError as exc:
            tls = _caused_by(exc, ssl.SSLError)
            raise _CouldNotConnect(
                FailureReason.TLS_FAILED if tls else FailureReason.CONNECT_FAILED
            ) from None
        except httpx.HTTPError:
            raise OutboundFailed(FailureReason.NETWORK_ERROR) from None
        try:
            body, truncated = await _read_capped(response, policy)
        finally:
            await response.aclose()
    kept = {name: value for name in KEPT_RESPONSE_HEADERS if (value := response.headers.get(name))}
    return OutboundResponse(
        status_code=response.status_code,
        headers=kept,
        body=body,
        truncated=truncated,
        elapsed_seconds=time.monotonic() - started,
        target=target,
        address=address,
    )


async def _read_capped(response: httpx.Response, policy: OutboundPolicy) -> tuple[bytes, bool]:
    cap = policy.max_response_bytes
    # Fail before the body arrives when its declared length is already too large (a HEAD
    # response declares the length of a body it does not carry).
    declared = response.headers.get("content-length", "")
    if (
        response.request.method != "HEAD"
        and declared.isdigit()
        and int(declared) > cap
        and not policy.truncate_oversize_body
    ):
        raise OutboundFailed(FailureReason.RESPONSE_TOO_LARGE)
    body = bytearray()
    try:
        async for chunk in response.aiter_raw():
            room = cap - len(body)
            if len(chunk) > room:
                if not policy.truncate_oversize_body:
                    raise OutboundFailed(FailureReason.RESPONSE_TOO_LARGE)
                body += chunk[:room]
                return bytes(body), True
            body += chunk
    except httpx.TimeoutException:
        raise OutboundFailed(FailureReason.TIMEOUT) from None
    except httpx.HTTPError:
        raise OutboundFailed(FailureReason.NETWORK_ERROR) from None
    return bytes(body), False
