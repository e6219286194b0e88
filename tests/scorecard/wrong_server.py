"""A tiny, deliberately wrong web server for the scorecard's unit tests (stdlib http.server).

Each test states the one thing the server gets wrong (a header, a redirect, a TLS version, a
certificate) and shows the check FAILs on it; the full vulnerable app (tests/scorecard/
vulnerable/) breaks everything at once. Plain http or TLS with any protocol range, suite list and
certificate (trustme: another name, a few days left, an unknown CA)::

    with WrongServer({"/healthz": Answer(200, {"Server": "nginx/1.18.0"})}, tls=Tls(cert)) as s:
        ctx = s.context()  # a scorecard Context aimed at https://wrong.launchproof.test:PORT

Stdlib rather than uvicorn: uvicorn cannot lower its minimum TLS version or serve a handshake
per connection thread, which the TLS tests need.
"""

from __future__ import annotations

import http.server
import ssl
import threading
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import Any

import trustme

from app.scorecard.context import Context, Options
from app.scorecard.probe import Budget, Probe

HOST = "wrong.launchproof.test"
# What the project's app sends on every answer: a right server starts from these.
GOOD_HEADERS: dict[str, str] = {
    "Content-Type": "application/json",
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-origin",
}


@dataclass(frozen=True)
class Answer:
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=lambda: dict(GOOD_HEADERS))
    body: bytes = b'{"status":"ok"}'


def good(status: int = 200, body: bytes = b'{"status":"ok"}', **extra: str) -> Answer:
    """The right headers, plus (or overriding) ``extra`` (underscores become dashes)."""
    headers = {**GOOD_HEADERS, **{k.replace("_", "-"): v for k, v in extra.items()}}
    return Answer(status, headers, body)


def without(answer: Answer, *names: str) -> Answer:
    lowered = {n.lower() for n in names}
    return replace(
        answer, headers={k: v for k, v in answer.headers.items() if k.lower() not in lowered}
    )


@dataclass
class Tls:
    cert: trustme.LeafCert
    low: ssl.TLSVersion = ssl.TLSVersion.TLSv1_2
    high: ssl.TLSVersion = ssl.TLSVersion.TLSv1_3
    ciphers: str | None = None  # TLS 1.2 suites; None = Python's defaults

    def context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.cert.configure_cert(context)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version = self.low
            context.maximum_version = self.high
        if self.ciphers:
            context.set_ciphers(self.ciphers)
        return context


Routes = Mapping[str, Answer] | Callable[[str, str], Answer]
NOT_FOUND = good(404, b'{"title":"Not found."}')


def _handler(
    routes: Routes, tls: ssl.SSLContext | None
) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            if tls is not None:
                self.request = tls.wrap_socket(self.request, server_side=True)
            super().setup()

        def _answer(self) -> None:
            path = self.path.split("?", 1)[0]
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            if callable(routes):
                answer = routes(self.command, path)
            else:
                answer = routes.get(path, NOT_FOUND)
            self.send_response_only(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

        do_GET = do_POST = do_HEAD = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # refused handshakes are the point of several tests


class WrongServer:
    """Serves ``routes`` on 127.0.0.1 (``HOST`` through --resolve), plain or TLS, in a thread."""

    def __init__(self, routes: Routes, *, tls: Tls | None = None) -> None:
        self.tls = tls
        self.server = _Server(("127.0.0.1", 0), _handler(routes, tls.context() if tls else None))
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{HOST}:{self.port}"

    def __enter__(self) -> WrongServer:
        self.thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.server.shutdown()
        self.server.server_close()

    def context(self, ca_file: str | None = None, **options: Any) -> Context:
        """A Context aimed at this server (``base_url``), with ``options`` for Options."""
        options.setdefault("base_url", self.url)
        probe = Probe(Budget(200, 30), resolve={HOST: "127.0.0.1"}, ca_file=ca_file)
        return Context(options=Options(**options), probe=probe)


def ca_file(ca: trustme.CA, directory: Any) -> str:
    path = str(directory / "ca.pem")
    ca.cert_pem.write_to_path(path)
    return path
