"""Tokens a turn is charged, however it ends.

The provider's reported usage wins. When it reported none (the stream was cut, the client left,
the output was refused, the process died) the turn is still charged what it cost: prompt tokens
estimated from the prompt's size and completion tokens from what was streamed, at
``CHARS_PER_TOKEN`` characters per token (OpenAI's rule of thumb for English text; tokenizers
differ, an estimate that never makes a turn free is the point). One completion per tool round:
each round is charged on its own.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from app.chat.chunk_decoder import StreamMeter

CHARS_PER_TOKEN: Final = 4


def estimate_tokens(chars: int) -> int:
    return -(-max(chars, 0) // CHARS_PER_TOKEN)


def estimate_prompt_tokens(messages: list[dict[str, Any]] | tuple[dict[str, Any], ...]) -> int:
    """The prompt as sent (roles, text, tool calls and results), serialised, over 4."""
    return estimate_tokens(len(json.dumps(list(messages), default=str)))


def newest_within(history: Sequence[dict[str, Any]], budget: int) -> tuple[dict[str, Any], ...]:
    """The newest messages of ``history`` (oldest first) whose text fits in ``budget``
    estimated tokens (``CHAT_HISTORY_TOKENS``): a long conversation's context stays bounded by
    size, not only by count. Stops at the first message that does not fit, so what is sent is
    always an unbroken run of the latest turns."""
    used, start = 0, len(history)
    for message in reversed(history):
        cost = estimate_tokens(len(str(message.get("content") or "")))
        if used + cost > budget:
            break
        used, start = used + cost, start - 1
    return tuple(history[start:])


@dataclass
class Tally:
    """The turn's running total: rounds settled so far."""

    prompt_tokens: int = 0
    completion_tokens: int = 0

    def settle(self, meter: StreamMeter, prompt_estimate: int) -> None:
        """Charge one completion: its reported usage, else the estimates (nothing when the
        provider refused the request outright)."""
        if not meter.opened:
            return
        if meter.usage is not None:
            prompt, completion = meter.usage
        else:
            prompt, completion = prompt_estimate, estimate_tokens(meter.chars)
        self.prompt_tokens += prompt
        self.completion_tokens += completion
