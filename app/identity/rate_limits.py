"""Per-principal rate-limit dependencies (the budgets live in ``app.core.rate_limit``).

Declared in route and router signatures, so every limit is visible where the route is defined;
docs/rate-limits.md lists them all.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request

from app.core.rate_limit import Budget, limiter_of
from app.identity.dependencies import AnyPrincipal, StaffPrincipal


def limit_by_user(budget: Budget) -> Callable[[Request, AnyPrincipal], Awaitable[None]]:
    """A route dependency: one hit on ``budget`` for the calling user."""

    async def dependency(request: Request, principal: AnyPrincipal) -> None:
        await limiter_of(request).hit(budget, str(principal.user_id))

    dependency.__name__ = f"limit_{budget.name.lower()}"
    return dependency


async def limit_reads(request: Request, principal: AnyPrincipal) -> None:
    """The general read budget: every GET of a signed-in caller (user or API key); fails open."""
    if request.method != "GET":
        return
    who = f"key:{principal.api_key_id}" if principal.api_key_id else f"user:{principal.user_id}"
    await limiter_of(request).hit(Budget.READ, who)


async def limit_admin(request: Request, principal: StaffPrincipal) -> None:
    """Admin routes, per staff user (after the staff check: others get 403, not a count)."""
    await limiter_of(request).hit(Budget.ADMIN, str(principal.user_id))
