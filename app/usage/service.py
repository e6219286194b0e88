"""The per-workspace daily model-token budget (the spend cap of checklist row C6).

A turn is admitted by a *reservation* taken before the model is called, in the request's
transaction, in one statement against the day's ledger (``UsageRepository.reserve``): settled
spend plus the reservations of turns still running must be below the budget. Whoever ends the
turn (the runner on every ending, or the sweeper for a turn whose process died) calls
``finalize_turn``, which calls ``settle``: the reservation is released and the real usage is
charged, in the same transaction as the turn's final state. See docs/configuration.md.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.bots.tool_names import ToolName
from app.core.config import Settings
from app.core.errors import RateLimited
from app.core.metrics import MODEL_TOKENS, workspace_bucket
from app.core.repository import Carried
from app.tools.executor import MAX_RESULT_CHARS
from app.tools.registry import REGISTRY
from app.usage.repository import UsageRepository, UsageReservationRepository
from app.workspaces.access import AccessibleWorkspaceID

# Tokens a chat message costs beyond its text (role, separators), as OpenAI's own counting
# recipe charges; rounded up.
MESSAGE_OVERHEAD_TOKENS = 4
# UTF-8 bytes per token assumed by the estimate. BPE tokenizers average about 4 characters a
# token for English; CJK text is about one token per character (3 bytes), emoji and rare
# scripts can be more. Bytes / 3 over-counts English by about a third and still holds for CJK:
# a reservation should be too large rather than too small.
BYTES_PER_TOKEN = 3


class BudgetExhausted(RateLimited):
    code = "token_budget_exhausted"
    title = "This workspace has used today's model budget"


def _seconds_to_midnight(now: datetime) -> int:
    tomorrow = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return int((tomorrow - now).total_seconds()) + 1


def _tokens(text: str) -> int:
    return math.ceil(len(text.encode("utf-8")) / BYTES_PER_TOKEN)


def estimate_prompt_tokens(
    messages: Iterable[Mapping[str, Any]], tool_names: Iterable[str] = ()
) -> int:
    """An upper estimate of one model call's prompt: every message and the offered tools."""
    total = 0
    for message in messages:
        total += MESSAGE_OVERHEAD_TOKENS + _tokens(str(message.get("content") or ""))
    for name in tool_names:
        total += _tokens(json.dumps(REGISTRY[ToolName(name)].openai_schema()))
    return total


def reservation_tokens(prompt_estimate: int, *, max_tokens: int, tool_rounds: int) -> int:
    """What a turn may spend at most, as far as it can be known before it runs.

    A turn makes ``tool_rounds + 1`` model calls at most (the runner's loop; a turn without tools
    makes one). Every call re-sends the whole prompt and may write up to ``max_tokens``; every
    round's output and one tool result (capped at ``MAX_RESULT_CHARS``) are re-sent as prompt
    by each later call. Rounds with several tool calls can exceed this: settlement charges the
    real usage either way, so the estimate only decides admission.
    """
    calls = tool_rounds + 1
    carried = max_tokens + MESSAGE_OVERHEAD_TOKENS + math.ceil(MAX_RESULT_CHARS / BYTES_PER_TOKEN)
    return calls * (prompt_estimate + max_tokens) + calls * (calls - 1) // 2 * carried


async def reserve_turn(
    session: AsyncSession,
    settings: Settings,
    workspace_id: AccessibleWorkspaceID,
    message_id: uuid.UUID,
    *,
    messages: Iterable[Mapping[str, Any]],
    tool_names: tuple[str, ...],
    max_tokens: int,
    alongside: Sequence[Carried] = (),
) -> int:
    """Admit a turn against today's budget or raise 429; returns the tokens reserved.

    Retry-After: until UTC midnight when the settled spend reached the budget; otherwise the
    rest of the budget is held by turns still running, which settle within about one model
    request timeout, so that is the wait. ``alongside``: writes the admission statement
    carries (``UsageRepository.reserve``); a refusal raises, so the transaction undoes them.
    """
    now = datetime.now(UTC)
    budget = settings.chat_daily_token_budget
    prompt = estimate_prompt_tokens(messages, tool_names)
    tokens = reservation_tokens(
        prompt,
        max_tokens=max_tokens,
        tool_rounds=settings.chat_max_tool_rounds if tool_names else 0,
    )
    ledger = UsageRepository(session)
    if budget <= 0 or not await ledger.reserve(
        workspace_id,
        message_id,
        now.date(),
        tokens=tokens,
        budget=budget,
        prompt_estimate=prompt,
        alongside=alongside,
    ):
        until_midnight = _seconds_to_midnight(now)
        if budget <= 0 or await ledger.spent(workspace_id, now.date()) >= budget:
            raise BudgetExhausted(until_midnight, "Try again tomorrow (UTC).")
        wait = min(until_midnight, math.ceil(settings.chat_request_timeout_seconds))
        raise BudgetExhausted(
            wait, "Answers still running hold the rest of today's budget. Try again shortly."
        )
    return tokens


async def settle(
    session: AsyncSession,
    workspace_id: AccessibleWorkspaceID,
    message_id: uuid.UUID,
    *,
    prompt: int,
    completion: int,
    streamed_text: str = "",
) -> None:
    """Release a turn's reservation and charge its usage, whatever the turn's ending.

    Called inside the transaction that writes the turn's final state. ``prompt``/``completion``
    are what the provider reported or, when it reported nothing, what the runner counted. A turn
    is never free: with no usage reported at all (the stream broke or the client left before the
    provider's usage chunk) it is charged its prompt estimate, since the provider read the
    prompt, and an estimate of the text it streamed (``streamed_text``), since that was
    generated. Taking the reservation is what makes the charge happen once: a turn already
    settled (or one admitted before reservations existed) charges nothing here.
    """
    charged = await UsageReservationRepository(session).settle_turn(
        workspace_id,
        message_id,
        prompt=max(prompt, 0),
        completion=completion if completion > 0 else _tokens(streamed_text),
    )
    if charged is None:
        return
    bucket = workspace_bucket(workspace_id)
    MODEL_TOKENS.labels(kind="prompt", workspace_bucket=bucket).inc(charged.prompt)
    MODEL_TOKENS.labels(kind="completion", workspace_bucket=bucket).inc(charged.completion)
