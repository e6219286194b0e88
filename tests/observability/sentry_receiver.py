"""A Sentry ingest stand-in on loopback: keeps every envelope the real SDK sends, decompressed.

Point ``SENTRY_DSN`` at ``SentryReceiver.dsn``; ``text()`` is everything received (to search for
planted values), ``events()`` the decoded ``event`` items.
"""

from __future__ import annotations

import gzip
import json
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any


def decode_body(body: bytes, encoding: str) -> str:
    if encoding == "gzip":
        body = gzip.decompress(body)
    elif encoding == "deflate":
        body = zlib.decompress(body)
    elif encoding == "br":
        # The SDK compresses with brotli whenever the module is importable.
        import brotli  # type: ignore[import-untyped]

        body = brotli.decompress(body)
    else:
        assert encoding in ("", "identity"), f"unexpected Content-Encoding {encoding}"
    return body.decode("utf-8")


class SentryReceiver:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.envelopes: list[str] = []
        self.paths: list[str] = []  # the ingest path of each envelope
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                text = decode_body(raw, self.headers.get("Content-Encoding", ""))
                with receiver.lock:
                    receiver.envelopes.append(text)
                    receiver.paths.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, format: str, *args: Any) -> None:  # noqa: ARG002 - quiet
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def dsn(self) -> str:
        return f"http://public@127.0.0.1:{self.httpd.server_address[1]}/1"

    def text(self) -> str:
        with self.lock:
            return "\n".join(self.envelopes)

    def events(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        with self.lock:
            bodies = list(self.envelopes)
        for body in bodies:
            lines = body.split("\n")
            for index, line in enumerate(lines[1:-1], start=1):
                try:
                    header = json.loads(line)
                except ValueError:
                    continue
                if isinstance(header, dict) and header.get("type") == "event":
                    found.append(json.loads(lines[index + 1]))
        return found

    def __enter__(self) -> SentryReceiver:
        self.thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
