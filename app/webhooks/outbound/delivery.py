"""One delivery attempt and what follows from its outcome (no transactions here: see tasks.py).

Outcome rules: 2xx is success. A 3xx is a failure (redirects are never followed: a receiver
cannot bounce a signed payload to an internal address). 410 Gone disables the endpoint. Anything
else (other statuses, timeouts, refused or unreachable targets) is retried with exponential
backoff and full jitter, at least ``Retry-After`` when the receiver sent one, until
``WEBHOOK_MAX_ATTEMPTS``; an endpoint failing continuously for a long time is disabled
(``lifecycle.py``). Everything the receiver controls (status, headers, body) is parsed by total
functions: no answer can make an attempt raise. The ``webhook-id`` and body are the same on every
attempt; the timestamp and signatures are fresh.
"""

from __future__ import annotations

import math
import random
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum

from app.core.config import Settings
from app.core.outbound import OutboundFailed, OutboundRefused, OutboundRequest, fetch
from app.core.outbound.dns import resolver_for
from app.webhooks.outbound.policy import delivery_policy
from app.webhooks.outbound.signing import signature_headers

SNIPPET_CHARS = 256
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class Outcome(StrEnum):
    SUCCESS = "success"
    HTTP_ERROR = "http_error"
    REDIRECT = "redirect"
    GONE = "gone"
    REFUSED = "refused"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class AttemptResult:
    outcome: Outcome
    detail: str  # a machine reason (status class, refusal or failure code)
    status_code: int | None
    duration_ms: int
    snippet: str
    retry_after_seconds: float | None


# ASCII digits only: str.isdigit() also accepts "²" or "٣", which int() then refuses.
_DELTA_SECONDS = re.compile(r"[0-9]{1,16}", re.ASCII)
_MAX_RETRY_AFTER_CHARS = 64  # an HTTP-date is 29 characters; anything longer is garbage


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """``Retry-After`` as seconds from now (delta-seconds or an HTTP date); None if absent/bad.

    Total on any receiver input: odd digits, negative numbers, huge values, dates out of range
    and garbage all give None or a finite, non-negative number; it never raises. Callers cap it.
    """
    if not value or len(value) > _MAX_RETRY_AFTER_CHARS:
        return None
    value = value.strip()
    if _DELTA_SECONDS.fullmatch(value):
        return float(int(value))
    try:
        when = parsedate_to_datetime(value)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - now).total_seconds()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return max(seconds, 0.0)


def backoff_seconds(settings: Settings, attempts: int, retry_after: float | None) -> float:
    """Full-jitter exponential backoff, never sooner than a (capped) ``Retry-After``."""
    ceiling = min(
        settings.webhook_retry_max_seconds,
        settings.webhook_retry_base_seconds * 2 ** max(attempts - 1, 0),
    )
    delay = random.uniform(0, ceiling)  # noqa: S311 - jitter, not a secret
    if retry_after is not None and math.isfinite(retry_after):
        delay = max(delay, min(max(retry_after, 0.0), settings.webhook_retry_max_seconds))
    return delay


def _snippet(body: bytes) -> str:
    text = body[: SNIPPET_CHARS * 4].decode("utf-8", errors="replace")
    return _UNPRINTABLE.sub("", text)[:SNIPPET_CHARS]


async def attempt(
    settings: Settings,
    *,
    url: str,
    msg_id: str,
    body: str,
    secrets: Sequence[str],
) -> AttemptResult:
    """Sign and POST ``body`` to ``url`` through the outbound guard (checked again now)."""
    now = datetime.now(UTC)
    headers = {
        **signature_headers(secrets, msg_id=msg_id, timestamp=now, body=body),
        "Content-Type": "application/json",
    }
    started = time.monotonic()
    request = OutboundRequest(url, method="POST", headers=headers, content=body.encode("utf-8"))
    try:
        response = await fetch(
            request, delivery_policy(settings, url), resolver=resolver_for(settings)
        )
    except OutboundRefused as exc:
        return AttemptResult(Outcome.REFUSED, exc.reason_code, None, _ms(started), "", None)
    except OutboundFailed as exc:
        return AttemptResult(Outcome.FAILED, exc.reason_code, None, _ms(started), "", None)
    code = response.status_code
    snippet = _snippet(response.body)
    retry_after = parse_retry_after(response.headers.get("retry-after"), datetime.now(UTC))
    if 200 <= code < 300:
        outcome = Outcome.SUCCESS
    elif code == 410:
        outcome = Outcome.GONE
    elif response.is_redirect:
        outcome = Outcome.REDIRECT
    else:
        outcome = Outcome.HTTP_ERROR
    return AttemptResult(outcome, f"http_{code}", code, _ms(started), snippet, retry_after)


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
