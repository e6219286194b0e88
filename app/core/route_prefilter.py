"""Route matching, cheaper: an included router whose routes cannot match the path is skipped.

FastAPI 0.165 includes a router lazily (``_IncludedRouter``): on every request the application's
router asks each included router in turn, and each one walks all of its routes with per-route
scope bookkeeping (about 4 us a route), then walks the selected one again to handle it.
Launchproof includes 22 routers; ``GET /v1/me`` is served by the fourteenth, a conversation list
by the nineteenth, so most of that walk is over routers that cannot match.

An included router answers ``NONE`` exactly when no route's compiled path pattern matches the
path: a full match needs the pattern and the method, a partial one (405) the pattern alone.
``GuardedRouter`` tests that first, with the very patterns FastAPI matches with, and answers
``NONE`` at once when none matches; a literal-prefix test (``/v1/workspaces/`` for
``/v1/workspaces/{workspace_id}/bots``, where every pattern starts) skips even that for most
routers. Every other path is matched by FastAPI as before, so which route serves a request,
and in which order routers are asked, does not change. A router with any route that is not a
plain FastAPI path operation (a mount, a websocket, a frontend group), or whose pattern does not
start with its literal prefix, is never skipped. tests/test_route_prefilter.py checks every
inventoried route.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi.routing import APIRoute, APIRouter, _IncludedRouter
from starlette._utils import get_route_path
from starlette.routing import Match
from starlette.types import Scope


@dataclass(frozen=True)
class PathGuard:
    """Every route's literal path start and compiled pattern, as FastAPI matches them."""

    prefixes: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...]

    def may_match(self, path: str) -> bool:
        return path.startswith(self.prefixes) and any(p.match(path) for p in self.patterns)


@dataclass
class GuardedRouter(_IncludedRouter):
    _guard: PathGuard | None = None
    _guard_version: int | None = None
    _flat: bool = False  # the router included no router when the guard was built

    def path_guard(self) -> PathGuard | None:
        """The router's guard, or None when it must always be asked (rebuilt if routes change).

        FastAPI's routes version walks every route of the router (and of any router it
        includes) each time it is asked; a router that includes none changes its version only
        through its own counter, which FastAPI bumps on every route or router added, so that
        counter alone is read (an included router added later bumps it, and the rebuild then
        sees the nesting and reads the full version from then on)."""
        if self._version() != self._guard_version:
            self._guard = _path_guard(self)
            self._flat = not any(
                isinstance(r, _IncludedRouter) for r in self.original_router.routes
            )
            self._guard_version = self._version()
        return self._guard

    def _version(self) -> int:
        router = self.original_router
        return router._routes_version if self._flat else router._get_routes_version()

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http":
            guard = self.path_guard()
            if guard is not None and not guard.may_match(get_route_path(scope)):
                return Match.NONE, {}
        return super().matches(scope)


def _path_guard(router: _IncludedRouter) -> PathGuard | None:
    prefixes: set[str] = set()
    patterns: list[re.Pattern[str]] = []
    for context in router.effective_route_contexts():
        if not isinstance(context.original_route, APIRoute) or context.path_regex is None:
            return None
        literal = context.path.split("{", 1)[0]
        if not context.path_regex.pattern.startswith("^" + re.escape(literal)):
            return None
        prefixes.add(literal)
        patterns.append(context.path_regex)
    return PathGuard(tuple(sorted(prefixes)), tuple(patterns))


def guard_last_included(target: APIRouter) -> None:
    """Replace the router ``include_router`` just appended to ``target`` with a guarded one."""
    included = target.routes[-1]
    assert isinstance(included, _IncludedRouter)
    target.routes[-1] = GuardedRouter(
        original_router=included.original_router, include_context=included.include_context
    )
