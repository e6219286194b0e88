"""uvicorn's httptools protocol with the two guards h11 gives: a request-head size cap and a
request-head deadline. ``python -m app serve`` runs this protocol; ``load/serve_variant.py
--http h11`` runs the h11 one for the comparison in docs/performance.md ("HTTP parser").

httptools (llhttp) is cheaper per request than h11, but neither it nor uvicorn bounds a request
head: measured, a single 16 MiB header line was buffered whole and handed to the application
(server peak RSS 65 MB), so many such connections exhaust memory. The application-level check
(``app/core/body_limit.py``, 431) comes too late for that. Here the bytes the parser reads while
it is between a message's end (or the connection's start) and the next head's end are counted
per connection; past ``MAX_REQUEST_HEAD_BYTES`` the connection gets ``431`` and is closed at
once, so at most the cap plus one socket read is ever buffered. Body bytes are never counted: a
read that completes a head is not counted, and the body bytes a read hands to the parser
(``on_body``, also those of a body left unread after an early answer, which the parser
discards) are taken out of its count. Within one read, the heads of complete pipelined
requests before an incomplete one are counted with it (an over-count only clients that
pipeline more than 16 KiB of heads could meet; browsers and proxies do not pipeline).

Hand-written because uvicorn offers the cap for h11 only (``h11_max_incomplete_event_size``);
the mechanism is uvicorn's documented ``http=`` protocol-class option.
"""

from __future__ import annotations

import json
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.core.slow_heads import MAX_REQUEST_HEAD_BYTES, HeadDeadline

_TOO_LARGE = json.dumps(
    {
        "type": "about:blank",
        "title": "Request header fields too large",
        "status": 431,
        "detail": "The request headers exceed the size limit.",
        "code": "headers_too_large",
    },
    separators=(",", ":"),
).encode()
HEAD_TOO_LARGE_REPLY = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"content-type: application/problem+json\r\n"
    b"content-length: " + str(len(_TOO_LARGE)).encode() + b"\r\n"
    b"connection: close\r\n\r\n" + _TOO_LARGE
)


class GuardedHttpToolsProtocol(HeadDeadline, HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._init_head_deadline()
        self.head_bytes = 0
        self.reading_head = True  # between a message's end (or the start) and a head's end
        self.read_body_bytes = 0  # body bytes the parser handed out during the current read
        self.head_complete = False  # since the deadline was last armed

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self.head_complete = False
        self._arm_head_timer()  # the next request's head gets its own deadline

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.head_bytes = 0
        self.reading_head = True

    def on_headers_complete(self) -> None:
        self.head_complete = True
        self.reading_head = False
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        self.read_body_bytes += len(body)
        super().on_body(body)

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self.head_bytes = 0
        self.reading_head = True

    def data_received(self, data: bytes) -> None:
        self.read_body_bytes = 0
        super().data_received(data)
        if not self.reading_head or self.transport.is_closing():
            return
        self.head_bytes += len(data) - self.read_body_bytes
        if self.head_bytes > MAX_REQUEST_HEAD_BYTES:
            self.transport.write(HEAD_TOO_LARGE_REPLY)
            self.transport.close()

    def waiting_for_head(self) -> bool:
        return not self.head_complete and (self.cycle is None or self.cycle.response_complete)
