"""The stub's memory: script queues and request recordings, per process, per session.

A *session* is a namespace chosen by the test (``""`` when none): ``X-Stub-Session`` on the
completion request, else the ``[[session:ID]]`` marker nearest the end of the conversation (which
survives a backend that forwards user text but not headers). A completion consumes only its own
session's script, and its recording is tagged with that session.
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from app.model_stub.schemas import ScriptItem

MAX_RECORDINGS = 500


@dataclass
class _Queued:
    item: ScriptItem
    remaining: int


class StubState:
    """Everything mutable in one object, so each app built by ``create_stub_app`` starts clean."""

    def __init__(self, *, max_recordings: int = MAX_RECORDINGS) -> None:
        self._scripts: dict[str, deque[_Queued]] = {}
        self._recordings: deque[dict[str, Any]] = deque(maxlen=max_recordings)
        self._sequence = itertools.count(1)

    def next_sequence(self) -> int:
        return next(self._sequence)

    def enqueue(self, session: str, items: list[ScriptItem]) -> int:
        """Append to the session's script; returns how many completions it now covers."""
        queue = self._scripts.setdefault(session, deque())
        queue.extend(_Queued(item, item.repeat) for item in items)
        return self.pending(session)

    def pending(self, session: str) -> int:
        return sum(entry.remaining for entry in self._scripts.get(session, ()))

    def take(self, session: str) -> ScriptItem | None:
        """The next scripted completion for this session, or None (answer from the request)."""
        queue = self._scripts.get(session)
        if not queue:
            return None
        entry = queue[0]
        entry.remaining -= 1
        if entry.remaining <= 0:
            queue.popleft()
        return entry.item

    def record(self, sequence: int, session: str, body: dict[str, Any]) -> None:
        self._recordings.append(
            {"seq": sequence, "session": session, "received_at": time.time(), "body": body}
        )

    def recordings(self, session: str | None) -> list[dict[str, Any]]:
        return [r for r in self._recordings if session is None or r["session"] == session]

    def reset(self, session: str | None) -> None:
        """Forget one session's script and recordings, or everything when ``session`` is None."""
        if session is None:
            self._scripts.clear()
            self._recordings.clear()
            return
        self._scripts.pop(session, None)
        kept = [r for r in self._recordings if r["session"] != session]
        self._recordings.clear()
        self._recordings.extend(kept)
