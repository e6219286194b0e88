"""Limits on what a model may send: everything it streams is untrusted input.

The provider checks each chunk against these before anything else reads it; a chunk outside them
raises ``ModelOutputRefused`` with a stable code, which the runner turns into a ``failed`` turn.
Argument size and nesting are checked here, before any ``json.loads``: CPython's parser recurses
per nesting level, so 1,200 levels of ``[`` would otherwise raise ``RecursionError`` wherever the
arguments are parsed.
"""

from __future__ import annotations

from typing import Final

# Unknown names up to this length are refused per call by the executor (tool_not_allowed, audited
# with the name cut to 100 characters); a longer one is not a tool call at all and ends the turn.
MAX_TOOL_NAME_CHARS: Final = 256
MAX_CALL_ID_CHARS: Final = 128
MAX_TOOL_ARGUMENT_CHARS: Final = 32_768  # per call; the tools' own schemas accept far less
MAX_ARGUMENT_DEPTH: Final = 32  # nesting of the arguments' JSON; the tools need 2

# Failure codes a model's output can cause (docs/decisions/0005-streaming-persistence.md).
INVALID_OUTPUT: Final = "model_invalid_output"
TOO_MANY_TOOL_CALLS: Final = "model_too_many_tool_calls"
ANSWER_TOO_LONG: Final = "answer_too_long"


class ModelOutputRefused(Exception):
    """The model sent something outside the limits. ``reason`` is ours (never model text)."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
