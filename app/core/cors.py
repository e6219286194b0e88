"""CORS: Starlette's CORS logic, restricted so only allowed origins ever see a CORS header.

Policy (checklist C5):
  * origins are an explicit list matched exactly (scheme, host and port), case-sensitively against
    the lower-cased configuration. Browsers always serialise ``Origin`` in lower case, so a
    mixed-case ``Origin`` (``https://APP.example.com``) is not a browser and gets no grant;
  * never ``*``, never ``null``, no origin regex; credentials are granted to those origins only;
  * preflight caching is bounded (``Access-Control-Max-Age`` at most 600 s);
  * allowed request headers are the minimum a browser client needs: ``Content-Type`` (JSON
    bodies) and ``Idempotency-Key`` (chat sends). ``Authorization`` is not offered: API keys
    belong to servers, never to a browser page (and so never to its storage).

Stock Starlette also sends ``Access-Control-Allow-Credentials: true`` (and the expose list) to
*any* Origin, allowed or not; harmless for browsers without an ``Access-Control-Allow-Origin``,
but it reads as a grant to scanners and reviewers. ``StrictCORS`` sends nothing to other origins.

It is a policy, not a middleware: the edge layer (app/core/middleware.py) asks it to answer a
preflight and to add the headers of a simple response. Both are Starlette's ``CORSMiddleware``
code (held, never called as an ASGI app), with the grants removed for other origins.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

MAX_PREFLIGHT_AGE_SECONDS = 600
ALLOWED_METHODS = ("GET", "POST", "PATCH", "DELETE")
ALLOWED_HEADERS = ("Content-Type", "Idempotency-Key")
EXPOSED_HEADERS = ("X-Request-ID", "Retry-After")
_GRANT_HEADERS = (
    "access-control-allow-origin",
    "access-control-allow-credentials",
    "access-control-allow-methods",
    "access-control-allow-headers",
    "access-control-expose-headers",
    "access-control-max-age",
    "access-control-allow-private-network",
)


async def _never_called(_scope: Scope, _receive: Receive, _send: Send) -> None:  # pragma: no cover
    raise AssertionError("StrictCORS is a policy: the edge layer calls the application")


async def _kept(message: Message) -> None:
    """Starlette's ``send`` edits the message in place; the edge layer sends it on."""


class StrictCORS:
    def __init__(
        self, allow_origins: Sequence[str], max_age: int = MAX_PREFLIGHT_AGE_SECONDS
    ) -> None:
        origins = list(allow_origins)
        for origin in origins:
            if origin in ("*", "null") or "://" not in origin or origin.endswith("/"):
                raise ValueError("CORS origins are exact scheme://host[:port] values")
        if not 0 <= max_age <= MAX_PREFLIGHT_AGE_SECONDS:
            raise ValueError(f"CORS max_age must be within 0..{MAX_PREFLIGHT_AGE_SECONDS}")
        self.starlette = CORSMiddleware(
            _never_called,
            allow_origins=origins,
            allow_methods=ALLOWED_METHODS,
            allow_headers=ALLOWED_HEADERS,
            allow_credentials=True,
            expose_headers=EXPOSED_HEADERS,
            max_age=max_age,
        )

    @staticmethod
    def is_preflight(method: str, origin: str | None, has_request_method: bool) -> bool:
        """Starlette's: ``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method``."""
        return origin is not None and method == "OPTIONS" and has_request_method

    def preflight_response(self, request_headers: Headers) -> Response:
        response = self.starlette.preflight_response(request_headers)
        if not self.starlette.is_allowed_origin(request_headers["origin"]):
            for name in _GRANT_HEADERS:
                if name in response.headers:
                    del response.headers[name]
        return response

    async def response_start(self, message: Message, request_headers: Headers) -> None:
        """Add the CORS headers to a response's ``http.response.start`` message, in place."""
        origin = request_headers.get("origin")
        if origin is not None and not self.starlette.is_allowed_origin(origin):
            # No grant at all; Vary keeps shared caches from reusing this for an allowed origin.
            message.setdefault("headers", [])
            headers = MutableHeaders(scope=message)
            headers.add_vary_header("Origin")
            return
        await self.starlette.send(message, _kept, request_headers)
