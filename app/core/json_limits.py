"""Bounded JSON parsing for bytes a third party sends (inbound webhook bodies, a model's tool-call
arguments): signed or not, still the sender's.

``json.loads`` recurses once per nesting level: a body nested a few thousand levels deep raises
``RecursionError`` (a 500 if uncaught), and a huge integer literal ``ValueError``. The depth is
checked first by a linear scan that never recurses, so the parser only sees shallow documents.
"""

from __future__ import annotations

import json
from typing import Any

# Real provider payloads nest a handful of levels; this leaves room and stays far from the
# interpreter's recursion limit.
MAX_DEPTH = 64


class JSONRefused(ValueError):
    """The body is not JSON we accept: malformed, too deep, or numbers out of range."""


def nesting_depth_exceeds(text: str, limit: int) -> bool:
    """True when brackets outside strings nest deeper than ``limit`` (one pass, no recursion)."""
    depth = 0
    in_string = False
    escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def loads_bounded(text: str, *, max_depth: int = MAX_DEPTH) -> Any:
    """``json.loads`` that raises only ``JSONRefused`` on hostile input."""
    if nesting_depth_exceeds(text, max_depth):
        raise JSONRefused("nested too deeply")
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:  # ValueError covers over-long integer literals
        raise JSONRefused(type(exc).__name__) from None
