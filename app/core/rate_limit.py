"""Rate limits: named budgets on the async ``limits`` API (Redis when ``REDIS_URL`` is set).

Async storage on purpose: slowapi's stock path calls the synchronous ``limits`` API, so every
limited request would block the event loop on Redis round trips (slowapi issues #3, #130). The
budgets are declared per route as typed FastAPI dependencies instead (docs/decisions/0006), all
of them in the table below and in docs/rate-limits.md.

Keys are the trusted-proxy client IP (``current_client_ip()``, never a header read here), the
normalised e-mail (after pydantic parsed the body), the user id or a webhook source.

Auth, upload, webhook and chat budgets *fail closed*: when the store cannot be reached within
``STORE_TIMEOUT_SECONDS`` the request is refused with 503 rather than let through unmetered.
The general read budget *fails open*: the request is allowed, logged and counted.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from enum import StrEnum

import structlog
from fastapi import Request
from limits import RateLimitItem, parse_many
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from app.core.config import Settings
from app.core.errors import RateLimited, ServiceUnavailable
from app.core.metrics import RATE_LIMIT_REJECTIONS
from app.core.outages import ANSWERS, Outage
from app.core.request_context import current_client_ip

log = structlog.get_logger()
STORE_TIMEOUT_SECONDS = 0.5


class Budget(StrEnum):
    LOGIN_IP = "login.ip"
    LOGIN_ACCOUNT = "login.account"
    SECOND_FACTOR_IP = "second_factor.ip"
    SECOND_FACTOR_ACCOUNT = "second_factor.account"
    SIGNUP_IP = "signup.ip"
    PASSWORD_RESET_IP = "password_reset.ip"  # noqa: S105 - a budget name
    PASSWORD_RESET_ACCOUNT = "password_reset.account"  # noqa: S105 - a budget name
    VERIFY_EMAIL_IP = "verify_email.ip"
    VERIFY_EMAIL_ACCOUNT = "verify_email.account"
    CHAT_SEND = "chat.send"
    UPLOAD = "upload.user"
    WEBHOOK = "webhook.source_ip"
    API_KEY_CREATE = "api_key_create.user"
    INVITATION = "invitation.user"
    WEBHOOK_REPLAY = "webhook_replay.user"
    ADMIN = "admin.staff"
    READ = "read.principal"
    CSP_REPORT = "csp_report.ip"  # console (app/console/reports.py)


# Budget -> the setting that holds its ``limits`` notation (RATE_LIMIT_<NAME> in the environment).
SETTING: dict[Budget, str] = {
    Budget.LOGIN_IP: "rate_limit_login_ip",
    Budget.LOGIN_ACCOUNT: "rate_limit_login_account",
    Budget.SECOND_FACTOR_IP: "rate_limit_second_factor_ip",
    Budget.SECOND_FACTOR_ACCOUNT: "rate_limit_second_factor_account",
    Budget.SIGNUP_IP: "rate_limit_signup_ip",
    Budget.PASSWORD_RESET_IP: "rate_limit_password_reset_ip",
    Budget.PASSWORD_RESET_ACCOUNT: "rate_limit_password_reset_account",
    Budget.VERIFY_EMAIL_IP: "rate_limit_verify_email_ip",
    Budget.VERIFY_EMAIL_ACCOUNT: "rate_limit_verify_email_account",
    Budget.CHAT_SEND: "rate_limit_chat_send",
    Budget.UPLOAD: "rate_limit_upload",
    Budget.WEBHOOK: "rate_limit_webhook",
    Budget.API_KEY_CREATE: "rate_limit_api_key_create",
    Budget.INVITATION: "rate_limit_invitation",
    Budget.WEBHOOK_REPLAY: "rate_limit_webhook_replay",
    Budget.ADMIN: "rate_limit_admin",
    Budget.READ: "rate_limit_read",
    Budget.CSP_REPORT: "rate_limit_csp_report",
}
# Budgets that let a request through when the store is unreachable (everything else: 503).
FAIL_OPEN: frozenset[Budget] = frozenset({Budget.READ, Budget.CSP_REPORT})


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
        # A setting may hold several windows ("5/minute;30/hour"): each one must allow.
        self.items: dict[Budget, list[RateLimitItem]] = {
            budget: parse_many(getattr(settings, name)) for budget, name in SETTING.items()
        }
        # Fail-open decisions per budget, in this process (logged too; see docs/rate-limits.md).
        self.fail_open_count: Counter[Budget] = Counter()

    async def hit(self, budget: Budget, key: str) -> None:
        """Count one request against ``budget`` for ``key``; 429 with Retry-After when spent.

        The store gets ``STORE_TIMEOUT_SECONDS`` in total (socket timeouts alone do not bound a
        sequence of round trips), then the budget fails open or closed.
        """
        try:
            async with asyncio.timeout(STORE_TIMEOUT_SECONDS):
                for item in self.items[budget]:
                    if not await self.strategy.hit(item, budget.value, key):
                        stats = await self.strategy.get_window_stats(item, budget.value, key)
                        break
                else:
                    return
        except Exception as exc:
            if budget in FAIL_OPEN:
                self.fail_open_count[budget] += 1
                log.warning(
                    "rate limit store unavailable; allowing",
                    budget=budget.value,
                    error=type(exc).__name__,
                    fail_open_total=self.fail_open_count[budget],
                )
                return
            log.warning(
                "rate limit store unavailable; refusing",
                budget=budget.value,
                error=type(exc).__name__,
            )
            raise ServiceUnavailable(
                "Rate limiting is unavailable; try again shortly.",
                code=Outage.RATE_LIMITER_UNAVAILABLE.value,
                retry_after=ANSWERS[Outage.RATE_LIMITER_UNAVAILABLE].retry_after,
            ) from None
        RATE_LIMIT_REJECTIONS.labels(budget=budget.value).inc()
        raise RateLimited(int(stats.reset_time - time.time()) + 1, "Slow down; try again later.")


def limiter_of(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.rate_limiter
    return limiter


def client_ip_key() -> str:
    """The trusted-proxy client IP bound by the request-context middleware (never a header)."""
    return current_client_ip() or "unknown"


def limit_by_ip(budget: Budget) -> Callable[[Request], Awaitable[None]]:
    """A route dependency: one hit on ``budget`` for the resolved client IP."""

    async def dependency(request: Request) -> None:
        await limiter_of(request).hit(budget, client_ip_key())

    dependency.__name__ = f"limit_{budget.name.lower()}"
    return dependency


async def limit_account(request: Request, budget: Budget, email: str) -> None:
    """Per-account budgets, called once pydantic has parsed and normalised the e-mail.

    The store key is a hash of the address: Redis (and anyone reading its keys) never holds the
    personal data itself.
    """
    digest = hashlib.sha256(email.encode()).hexdigest()[:32]
    await limiter_of(request).hit(budget, digest)


async def limit_webhook(request: Request, source: str) -> None:
    """Inbound webhooks: per source (e.g. the integration id) and client IP; fails closed."""
    await limiter_of(request).hit(Budget.WEBHOOK, f"{source}|{client_ip_key()}")
