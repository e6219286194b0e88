"""A webhook receiver on loopback that records every request and answers as scripted.

``Receiver.script(path, [(status, headers, body), ...])`` queues answers for a path (then 204
for anything unscripted); ``delay`` slows every answer (to kill a worker mid-batch), or one path's
(``set_delay(seconds, path)``); ``outage(path, seconds, answer)`` answers every request of a path
with ``answer`` for a while (a receiver that is down), without consuming its script.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType


@dataclass(frozen=True)
class Captured:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def webhook_id(self) -> str:
        return self.headers.get("webhook-id", "")


Answer = tuple[int, dict[str, str], bytes]


@dataclass
class _State:
    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: list[Captured] = field(default_factory=list)
    scripts: dict[str, deque[Answer]] = field(default_factory=lambda: defaultdict(deque))
    delay: float = 0.0
    path_delays: dict[str, float] = field(default_factory=dict)
    outages: dict[str, tuple[float, Answer]] = field(default_factory=dict)


class Receiver:
    host = "127.0.0.1"

    def __init__(self) -> None:
        self.state = _State()
        state = self.state

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                captured = Captured(
                    path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                    at=time.time(),
                )
                with state.lock:
                    state.requests.append(captured)
                    queued = state.scripts[self.path]
                    until, down_answer = state.outages.get(self.path, (0.0, (204, {}, b"")))
                    if time.monotonic() < until:
                        status, headers, payload = down_answer
                    else:
                        status, headers, payload = queued.popleft() if queued else (204, {}, b"")
                    delay = state.path_delays.get(self.path, state.delay)
                if delay:
                    time.sleep(delay)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.httpd = ThreadingHTTPServer((self.host, 0), Handler)
        self.httpd.daemon_threads = True
        self.port = int(self.httpd.server_address[1])
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str = "/hook", host: str | None = None) -> str:
        return f"http://{host or self.host}:{self.port}{path}"

    def script(self, path: str, answers: list[Answer]) -> None:
        with self.state.lock:
            self.state.scripts[path].extend(answers)

    def set_delay(self, seconds: float, path: str | None = None) -> None:
        with self.state.lock:
            if path is None:
                self.state.delay = seconds
            else:
                self.state.path_delays[path] = seconds

    def outage(self, path: str, seconds: float, answer: Answer = (500, {}, b"down")) -> None:
        with self.state.lock:
            self.state.outages[path] = (time.monotonic() + seconds, answer)

    def end_outage(self, path: str) -> None:
        with self.state.lock:
            self.state.outages.pop(path, None)

    def down(self, path: str) -> bool:
        with self.state.lock:
            return time.monotonic() < self.state.outages.get(path, (0.0, (204, {}, b"")))[0]

    def received(self, path: str | None = None) -> list[Captured]:
        with self.state.lock:
            return [r for r in self.state.requests if path is None or r.path == path]

    def wait_for(self, path: str, count: int, timeout: float = 30.0) -> list[Captured]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.received(path)
            if len(got) >= count:
                return got
            time.sleep(0.05)
        raise AssertionError(f"{path}: {len(self.received(path))} of {count} requests arrived")

    def __enter__(self) -> Receiver:
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
