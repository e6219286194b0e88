"""A deadline for the request head (slowloris), for uvicorn's HTTP protocols.

uvicorn 0.x arms no timer until a first response is complete: a client that opens a connection
and sends its request head a byte at a time (or nothing at all) keeps the connection, its file
descriptor and its buffer for ever; only the keep-alive timer exists, and every received byte
cancels it. ``HeadDeadline`` gives each head ``REQUEST_HEAD_TIMEOUT_SECONDS``, counted from the
connection's start or the end of its previous response: a head not complete by then gets
``408`` and the connection is closed. Bodies have their own timeout (``app/core/body_limit.py``).

``app/core/guarded_httptools.py`` is the httptools protocol with it, which ``python -m app serve``
runs; ``HeadTimeoutH11Protocol`` the h11 one, kept for the parser comparison
(``load/serve_variant.py --http h11``).
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from app.core.config import get_settings

# The request-head cap of both protocols (h11: ``h11_max_incomplete_event_size``).
MAX_REQUEST_HEAD_BYTES = 16 * 1024
TIMEOUT_REPLY = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


class HeadDeadline(asyncio.Protocol):
    """Mixin for a uvicorn protocol (listed first): armed at connection start and, by the
    protocol's ``on_response_complete``, after each response; on expiry, 408 and close when
    ``waiting_for_head()`` says no head has completed since."""

    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport

    def _init_head_deadline(self) -> None:
        self.head_timeout = get_settings().request_head_timeout_seconds
        self.head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_timer()
        super().connection_lost(exc)

    def waiting_for_head(self) -> bool:
        raise NotImplementedError

    def _arm_head_timer(self) -> None:
        self._disarm_head_timer()
        self.head_timer = self.loop.call_later(self.head_timeout, self._head_timed_out)

    def _disarm_head_timer(self) -> None:
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None

    def _head_timed_out(self) -> None:
        self.head_timer = None
        if not self.transport.is_closing() and self.waiting_for_head():
            self.transport.write(TIMEOUT_REPLY)
            self.transport.close()


class HeadTimeoutH11Protocol(HeadDeadline, H11Protocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._init_head_deadline()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm_head_timer()  # the next request's head gets its own deadline

    def waiting_for_head(self) -> bool:
        return self.conn.their_state is h11.IDLE and (
            self.cycle is None or self.cycle.response_complete
        )
