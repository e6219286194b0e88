"""The route prefilter changes no match: every path selects the same route with and without it.

``app/core/route_prefilter.py`` lets an included router answer "no match" before walking its
routes. Here every inventoried route (a concrete path built from its template), its look-alikes
(trailing slash, parent path, other case) and paths no route serves are matched, with every
method, through the guarded routers of ``app.api`` and through the same routers included plainly:
the router selected, the route inside it and the match kind must agree.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from fastapi import APIRouter
from fastapi.routing import _IncludedRouter
from starlette.routing import BaseRoute, Match

from app.api import PRIVATE_DEPENDENCIES, PRIVATE_ROUTERS, PUBLIC_ROUTERS, api_router
from app.core.route_prefilter import GuardedRouter, guard_last_included
from tests.route_table import route_table

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
UNSERVED = ("/", "//", "/nope", "/v1", "/v1/", "/v1/x", "/V1/ME", "/v1/me/x/y", "/healthz/", "")


def _plain() -> APIRouter:
    router = APIRouter()
    for public in PUBLIC_ROUTERS:
        router.include_router(public)
    for private in PRIVATE_ROUTERS:
        router.include_router(private, dependencies=PRIVATE_DEPENDENCIES)
    return router


def _selected(routes: list[BaseRoute], method: str, path: str) -> tuple[Any, ...]:
    """What the application's router picks: the first full match, else the first partial."""
    scope: dict[str, Any] = {"type": "http", "method": method, "path": path, "root_path": ""}
    partial: tuple[Any, ...] | None = None
    for index, route in enumerate(routes):
        match, _ = route.matches(scope)
        if match is Match.NONE:
            continue
        assert isinstance(route, _IncludedRouter)
        inner, child, chosen, _ = route._match(scope)
        picked = (index, match, inner, getattr(chosen, "path", None), child.get("path_params"))
        if match is Match.FULL:
            return picked
        partial = partial or picked
    return partial or (None, Match.NONE)


def _paths() -> list[str]:
    paths = set(UNSERVED)
    for route in route_table():
        path = re.sub(r"\{[^}]+\}", lambda _: str(uuid.uuid4()), route.path)
        parent = path.rstrip("/").rsplit("/", 1)[0] or "/"
        paths |= {path, path + "/", path.rstrip("/"), parent, path.upper(), path + "/x"}
    return sorted(paths)


@pytest.fixture(scope="module")
def plain() -> APIRouter:
    return _plain()


def test_every_router_is_guarded() -> None:
    """Otherwise the test below would compare the same thing twice."""
    included = [r for r in api_router.routes if isinstance(r, _IncludedRouter)]
    assert len(included) == len(PUBLIC_ROUTERS) + len(PRIVATE_ROUTERS)
    assert all(isinstance(r, GuardedRouter) and r.path_guard() is not None for r in included)


@pytest.mark.parametrize("path", _paths())
def test_the_guard_changes_no_match(plain: APIRouter, path: str) -> None:
    for method in METHODS:
        guarded = _selected(api_router.routes, method, path)
        assert guarded == _selected(plain.routes, method, path), (method, path)


def _guarded_single(router: APIRouter) -> GuardedRouter:
    outer = APIRouter()
    outer.include_router(router)
    guard_last_included(outer)
    guarded = outer.routes[-1]
    assert isinstance(guarded, GuardedRouter)
    return guarded


def _answers(guarded: GuardedRouter, path: str) -> Match:
    scope: dict[str, Any] = {"type": "http", "method": "GET", "path": path, "root_path": ""}
    return guarded.matches(scope)[0]


def test_routes_added_after_the_first_request_are_matched() -> None:
    """The guard is rebuilt when the router changes: a route added to it, a router included
    into it, and a route added to that included router (the version the guard reads for a
    router that includes none is its own counter alone)."""

    async def endpoint() -> None:
        return None

    router = APIRouter(prefix="/r")
    router.add_api_route("/a", endpoint, methods=["GET"])
    guarded = _guarded_single(router)
    assert _answers(guarded, "/r/a") is Match.FULL
    assert _answers(guarded, "/r/b") is Match.NONE
    router.add_api_route("/b", endpoint, methods=["GET"])
    assert _answers(guarded, "/r/b") is Match.FULL
    nested = APIRouter(prefix="/n")
    nested.add_api_route("/c", endpoint, methods=["GET"])
    router.include_router(nested)
    assert _answers(guarded, "/r/n/c") is Match.FULL
    nested.add_api_route("/d", endpoint, methods=["GET"])
    assert _answers(guarded, "/r/n/d") is Match.FULL
