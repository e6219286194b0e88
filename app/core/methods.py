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
route table is the only truthful source of the methods. The edge layer (app/core/middleware.py)
applies it innermost, just outside the application.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from fastapi.routing import iter_route_contexts
from starlette.routing import BaseRoute, Mount, compile_path
from starlette.types import Message

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


class MethodTable:
    """The methods served per path, read from the application's live route list on first use."""

    def __init__(self, routes: Sequence[BaseRoute]) -> None:
        self.routes = routes  # the application's live list: read when the first request comes
        self._table: RouteTable | None = None

    def allowed(self, path: str) -> set[str]:
        if self._table is None:
            self._table = route_table(self.routes)
        return allowed_methods(self._table, path)


def options_answer(methods: set[str]) -> tuple[Message, Message]:
    """``204`` with the path's ``Allow``: the answer to a plain (non-CORS) ``OPTIONS``."""
    return (
        {
            "type": "http.response.start",
            "status": 204,
            "headers": [(b"allow", allow_header(methods))],
        },
        {"type": "http.response.body", "body": b""},
    )


def with_full_allow(message: Message, methods: set[str]) -> Message:
    """A 405's start message with ``Allow`` replaced by every method of the path."""
    headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"allow"]
    return {**message, "headers": [*headers, (b"allow", allow_header(methods))]}
