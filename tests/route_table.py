"""The route inventory: every (method, path) the API serves, with what its dependency tree calls.

Shared by the route inventory test, the role matrix, the BOLA matrix, the scorecard's route data
and the uptime configuration check: the one place that reads the route table from the app.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi.routing import iter_route_contexts
from starlette.routing import BaseRoute

from app.api import api_router
from app.identity.dependencies import get_principal


@dataclass(frozen=True)
class RouteInfo:
    """One (method, path) the application serves, with what its dependency tree calls."""

    method: str
    path: str
    path_params: tuple[tuple[str, Any], ...]  # (name, annotation), in path order
    calls: frozenset[Callable[..., Any]]

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.path)

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    def depends_on(self, dependency: Callable[..., Any]) -> bool:
        return dependency in self.calls

    def url(self, ids: Mapping[str, str]) -> str:
        return self.path.format(**ids)

    def random_ids(self) -> dict[str, str]:
        """A fresh, well-formed value for every path parameter (nothing that exists)."""
        values: dict[str, str] = {}
        for name, annotation in self.path_params:
            if annotation is uuid.UUID:
                values[name] = str(uuid.uuid4())
            elif annotation is str:
                values[name] = "x" + secrets.token_hex(8)
            else:  # a new kind of path parameter: teach the tests how to make one
                raise AssertionError(f"{self.label}: no random value for {name}: {annotation!r}")
        return values


def _dependency_calls(dependant: Any) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _dependency_calls(sub)


def route_table(routes: list[BaseRoute] | None = None) -> list[RouteInfo]:
    """Every (method, path) under ``routes`` (default: the API router), included routers expanded.

    A route that is not a FastAPI ``APIRoute`` (a mount, a plain Starlette route) has no
    dependency tree and so counts as unguarded: it must be public-listed to pass.
    """
    table: list[RouteInfo] = []
    for context in iter_route_contexts(routes if routes is not None else api_router.routes):
        try:
            dependant = context.dependant
        except AttributeError:
            dependant = None
        params: tuple[tuple[str, Any], ...] = ()
        calls: frozenset[Callable[..., Any]] = frozenset()
        if dependant is not None:
            params = tuple((p.name, p.field_info.annotation) for p in dependant.path_params)
            calls = frozenset(_dependency_calls(dependant))
        for method in sorted(context.methods or {"*"}):
            table.append(RouteInfo(method, str(context.path), params, calls))
    return table


# Routes that end the caller's session go last in the credential matrix: should a check break,
# the credential is then still alive to fail on every other route before one of these spends it.
SESSION_ENDING = frozenset({("POST", "/v1/auth/logout"), ("POST", "/v1/auth/logout-all")})


def private_routes() -> list[RouteInfo]:
    guarded = [route for route in route_table() if route.depends_on(get_principal)]
    return sorted(guarded, key=lambda route: route.key in SESSION_ENDING)


def without_request_id(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert isinstance(body, dict), response.text
    assert body.get("request_id"), f"no request_id in {body}"
    return {k: v for k, v in body.items() if k != "request_id"}
