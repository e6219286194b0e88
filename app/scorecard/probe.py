"""The one way checks talk to a deployment: an httpx client that counts every request against a
total budget and a deadline, both printed in the report.

``resolve`` pins host names to addresses the way ``curl --resolve`` does (a staging host before
its DNS exists, an origin behind Cloudflare, a loopback stack in tests) while TLS still verifies
the certificate for the *name*; ``ca_file`` adds a private CA. Redirects are never followed: a
redirect is evidence. Cookies are never kept: a request carries only the credential it is given.
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpcore
import httpx


class BudgetExhausted(Exception):
    """The request or time budget is spent: the remaining checks say NOT CHECKED."""


@dataclass
class Budget:
    max_requests: int
    max_seconds: float
    started: float = field(default_factory=time.monotonic)
    used: int = 0

    def take(self, count: int = 1) -> None:
        if self.used + count > self.max_requests:
            raise BudgetExhausted(f"request budget of {self.max_requests} spent")
        if self.elapsed() > self.max_seconds:
            raise BudgetExhausted(f"time budget of {self.max_seconds:.0f} s spent")
        self.used += count

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def remaining_seconds(self) -> float:
        return max(0.0, self.max_seconds - self.elapsed())


class _ResolvingBackend(httpcore.SyncBackend):
    """httpcore's socket backend with ``--resolve`` overrides (httpx has no resolver hook)."""

    def __init__(self, overrides: dict[str, str]) -> None:
        self.overrides = overrides

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        return super().connect_tcp(
            self.overrides.get(host, host), port, timeout, local_address, socket_options
        )


class _Transport(httpx.HTTPTransport):
    def __init__(self, verify: ssl.SSLContext, overrides: dict[str, str]) -> None:
        super().__init__(verify=verify)
        # httpx builds its httpcore pool without a network_backend argument; rebuild it with one.
        self._pool = httpcore.ConnectionPool(
            ssl_context=verify, network_backend=_ResolvingBackend(overrides)
        )


def ssl_context(ca_file: str | None) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if ca_file:
        context.load_verify_locations(ca_file)
    return context


class Probe:
    """Budgeted HTTP (and raw TLS) access to one deployment."""

    def __init__(
        self,
        budget: Budget,
        *,
        resolve: dict[str, str] | None = None,
        ca_file: str | None = None,
        timeout: float = 10.0,
        user_agent: str = "launchproof-check",
    ) -> None:
        self.budget = budget
        self.resolve = dict(resolve or {})
        self.ca_file = ca_file
        self.tls = ssl_context(ca_file)
        self.client = httpx.Client(
            transport=_Transport(self.tls, self.resolve),
            timeout=timeout,
            follow_redirects=False,
            headers={"User-Agent": user_agent},
        )

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One request, counted; connection errors propagate as ``httpx.HTTPError``."""
        self.budget.take()
        timeout = min(self.client.timeout.read or 10.0, max(self.budget.remaining_seconds(), 1.0))
        kwargs.setdefault("timeout", timeout)
        try:
            return self.client.request(method, url, **kwargs)
        finally:
            # Nothing is remembered between requests: httpx would keep a Set-Cookie and send it
            # with every later request, so a "no credential" probe made after a check signed in
            # would carry that session. Each request sends exactly the credential its check gives.
            self.client.cookies.clear()

    def connect_tls(
        self, host: str, port: int, *, context: ssl.SSLContext | None = None
    ) -> ssl.SSLSocket:
        """A raw TLS connection (counted as one request) for protocol and certificate checks."""
        self.budget.take()
        address = self.resolve.get(host, host)
        raw = socket.create_connection((address, port), timeout=10)
        try:
            return (context or self.tls).wrap_socket(raw, server_hostname=host)
        except BaseException:
            raw.close()
            raise

    def close(self) -> None:
        self.client.close()
