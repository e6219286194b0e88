"""One pass over a request's headers: everything the edge checks read, collected once.

The edge layer (app/core/middleware.py) used to be eight middlewares, each walking
``scope["headers"]`` for its own few names (one decoded every header into a dict). This reads
them once. Each field keeps the rule its check had: the first ``Origin``, ``Accept`` and
``X-Forwarded-Proto``; the last ``X-Request-ID``, ``CF-Connecting-IP`` and ``X-Forwarded-For``
(they were read from a dict); every ``Host``, ``Cookie`` and ``Content-Length``.
"""

from __future__ import annotations

from starlette.types import Scope

_HOST, _COOKIE, _AUTHORIZATION, _LENGTH, _ORIGIN, _PREFLIGHT = range(6)
_ACCEPT, _PROTO, _REQUEST_ID, _FORWARDED = range(6, 10)
_WANTED: dict[bytes, int] = {
    b"host": _HOST,
    b"cookie": _COOKIE,
    b"authorization": _AUTHORIZATION,
    b"content-length": _LENGTH,
    b"origin": _ORIGIN,
    b"access-control-request-method": _PREFLIGHT,
    b"accept": _ACCEPT,
    b"x-forwarded-proto": _PROTO,
    b"x-request-id": _REQUEST_ID,
    b"cf-connecting-ip": _FORWARDED,
    b"x-forwarded-for": _FORWARDED,
}


class RequestHead:
    __slots__ = (
        "accept",
        "authorization",
        "content_lengths",
        "cookies",
        "forwarded_proto",
        "forwarding",
        "hosts",
        "origin",
        "preflight_method",
        "request_id",
        "total_bytes",
    )

    def __init__(self) -> None:
        self.total_bytes = 0  # names + values, every header
        self.hosts: list[bytes] = []
        self.cookies: list[bytes] = []
        self.authorization = False
        self.content_lengths: list[bytes] = []
        self.origin: str | None = None
        self.preflight_method = False  # an Access-Control-Request-Method is present
        self.accept: bytes | None = None
        self.forwarded_proto: bytes | None = None
        self.request_id = ""
        # CF-Connecting-IP and X-Forwarded-For, as app.core.request_context reads them.
        self.forwarding: dict[str, str] = {}


def read_head(scope: Scope) -> RequestHead:
    head = RequestHead()
    total = 0
    for key, value in scope["headers"]:
        total += len(key) + len(value)
        slot = _WANTED.get(key)
        if slot is None:
            continue
        if slot == _HOST:
            head.hosts.append(value)
        elif slot == _COOKIE:
            head.cookies.append(value)
        elif slot == _AUTHORIZATION:
            head.authorization = True
        elif slot == _LENGTH:
            head.content_lengths.append(value)
        elif slot == _ORIGIN:
            if head.origin is None:
                head.origin = value.decode("latin-1")
        elif slot == _PREFLIGHT:
            head.preflight_method = True
        elif slot == _ACCEPT:
            if head.accept is None:
                head.accept = value
        elif slot == _PROTO:
            if head.forwarded_proto is None:
                head.forwarded_proto = value
        elif slot == _REQUEST_ID:
            head.request_id = value.decode("latin-1")
        else:
            head.forwarding[key.decode("latin-1")] = value.decode("latin-1")
    head.total_bytes = total
    return head
