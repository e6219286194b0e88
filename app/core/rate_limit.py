"""Rate limits: named budgets on the async ``limits`` API (Redis when ``REDIS_URL`` is set).

Async storage on purpose: slowapi's stock path calls the synchronous ``limits`` API, so every
limited request would block the event loop on Redis round trips (slowapi issues #3, #130). The
edge issue adds per-IP budgets and slowapi's declarative per-route limits on top of this module;
chat sends are limited here already because each one costs money.

Sends *fail closed*: when the limit store cannot be reached the request is refused with 503
rather than let through unmetered.
"""

from __future__ import annotations

import time
from enum import StrEnum

import structlog
from limits import RateLimitItem, parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from app.core.config import Settings
from app.core.errors import RateLimited, ServiceUnavailable

log = structlog.get_logger()
STORE_TIMEOUT_SECONDS = 0.5


class Budget(StrEnum):
    CHAT_SEND = "chat.send"


class RateLimiter:
    def __init__(self, settings: Settings) -> None:
        if settings.redis_url is not None:
            self.storage = storage_from_string(
                "async+" + settings.redis_url.get_secret_value(),
                implementation="redispy",
                key_prefix=settings.rate_limit_key_prefix,
                socket_timeout=STORE_TIMEOUT_SECONDS,
                socket_connect_timeout=STORE_TIMEOUT_SECONDS,
            )
        else:  # development and single-process runs only (production requires REDIS_URL)
            self.storage = storage_from_string("async+memory://")
        self.strategy = MovingWindowRateLimiter(self.storage)
        self.items: dict[Budget, RateLimitItem] = {
            Budget.CHAT_SEND: parse(settings.rate_limit_chat_send),
        }

    async def hit(self, budget: Budget, key: str) -> None:
        """Count one request against ``budget`` for ``key``; 429 with Retry-After when spent."""
        item = self.items[budget]
        try:
            allowed = await self.strategy.hit(item, budget.value, key)
            if allowed:
                return
            stats = await self.strategy.get_window_stats(item, budget.value, key)
        except Exception as exc:
            log.warning(
                "rate limit store unavailable", budget=budget.value, error=type(exc).__name__
            )
            raise ServiceUnavailable(
                "Rate limiting is unavailable; try again shortly.", code="rate_limit_unavailable"
            ) from None
        raise RateLimited(int(stats.reset_time - time.time()) + 1, "Slow down; try again later.")
