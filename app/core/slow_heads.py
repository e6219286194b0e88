"""uvicorn's h11 protocol with a deadline for the request head (slowloris).

uvicorn 0.x arms no timer until a first response is complete: a client that opens a connection
and sends its request head a byte at a time (or nothing at all) keeps the connection, its file
descriptor and its buffer for ever; only the keep-alive timer exists, and every received byte
cancels it. This subclass gives each head ``REQUEST_HEAD_TIMEOUT_SECONDS``, counted from the
connection's start or the end of its previous response: a head not complete by then gets
``408`` and the connection is closed. Bodies have their own timeout (``app/core/body_limit.py``).

Selected by ``python -m app serve`` (``http="app.core.slow_heads:HeadTimeoutH11Protocol"``).
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from app.core.config import get_settings

TIMEOUT_REPLY = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


class HeadTimeoutH11Protocol(H11Protocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.head_timeout = get_settings().request_head_timeout_seconds
        self.head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_timer()
        super().connection_lost(exc)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm_head_timer()  # the next request's head gets its own deadline

    def _arm_head_timer(self) -> None:
        self._disarm_head_timer()
        self.head_timer = self.loop.call_later(self.head_timeout, self._head_timed_out)

    def _disarm_head_timer(self) -> None:
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None

    def _head_timed_out(self) -> None:
        self.head_timer = None
        if self.transport.is_closing():
            return
        waiting_for_head = self.conn.their_state is h11.IDLE and (
            self.cycle is None or self.cycle.response_complete
        )
        if waiting_for_head:
            self.transport.write(TIMEOUT_REPLY)
            self.transport.close()
