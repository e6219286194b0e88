"""HEAD, OPTIONS and 405 answered as HTTP says (RFC 9110 sections 9.3.2, 9.3.7 and 15.5.6).

FastAPI registers one route per method and serves neither HEAD nor OPTIONS, and Starlette's
405 names only the methods of the first route that matched the path, so ``OPTIONS /v1/me``
answered ``405 Allow: GET`` while PATCH also exists. Here, for the path of the request:

* ``Allow`` lists every method any route serves there, plus HEAD (wherever GET is) and OPTIONS;
* HEAD runs the GET route and drops the body (status and headers, Content-Length included, are
  what GET sends);
* OPTIONS answers 204 with ``Allow`` (a CORS preflight never gets here: the CORS layer outside
  answers it);
* any 405 carries the full ``Allow``.

A path no route serves is untouched (404). Hand-written: Starlette has no hook for this, and the
route table is the only truthful source of the methods.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from fastapi.routing import iter_route_contexts
from starlette.routing import BaseRoute, Mount, compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

STATIC_METHODS = frozenset({"GET"})
RouteTable = list[tuple[re.Pattern[str], frozenset[str]]]


def route_table(routes: Sequence[BaseRoute]) -> RouteTable:
    """(path pattern, methods) for every route, included routers flattened (FastAPI nests them)."""
    table: RouteTable = []
    for context in iter_route_contexts(routes):
        route = context.original_route
        if isinstance(route, Mount):
            table.append((route.path_regex, STATIC_METHODS))
        elif context.path and context.methods:
            table.append((compile_path(context.path)[0], frozenset(context.methods)))
    return table


def allowed_methods(table: RouteTable, path: str) -> set[str]:
    """Every method some route serves at ``path`` (empty: no route serves it)."""
    methods: set[str] = set()
    for pattern, served in table:
        if pattern.match(path):
            methods |= served
    if methods:
        if "GET" in methods:
            methods.add("HEAD")
        methods.add("OPTIONS")
    return methods


def allow_header(methods: set[str]) -> bytes:
    return ", ".join(sorted(methods)).encode()


class MethodsMiddleware:
    def __init__(self, app: ASGIApp, *, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.routes = routes  # the application's live list: read when the first request comes
        self._table: RouteTable | None = None

    def allowed(self, path: str) -> set[str]:
        if self._table is None:
            self._table = route_table(self.routes)
        return allowed_methods(self._table, path)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        if method == "OPTIONS":
            methods = self.allowed(scope["path"])
            if methods:
                await send(
                    {
                        "type": "http.response.start",
                        "status": 204,
                        "headers": [(b"allow", allow_header(methods))],
                    }
                )
                await send({"type": "http.response.body", "body": b""})
                return
        head = method == "HEAD" and "GET" in self.allowed(scope["path"])
        if head:
            scope = {**scope, "method": "GET"}

        async def send_answer(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 405:
                methods = self.allowed(scope["path"])
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"allow"]
                message = {**message, "headers": [*headers, (b"allow", allow_header(methods))]}
            elif head and message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app(scope, receive, send_answer)
