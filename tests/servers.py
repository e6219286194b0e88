"""``server_factory``: settings overrides in, a running server out, always stopped.

Tests that need a server configured unlike the shared one (a tight limit, a proxy to trust, docs
on) ask the session's factory for one::

    @pytest.fixture(scope="module")
    def budget_server(server_factory: ServerFactory) -> Iterator[Server]:
        with server_factory(CHAT_DAILY_TOKEN_BUDGET="500", name="budget") as srv:
            yield srv

The settings start from ``support.base_env`` on the run's database with the model stub (or from
``base``, e.g. another server's environment), the log goes to its own temporary directory (or
``log_path``), and the server is stopped when the block ends, on failure too; any server still
running when the session ends is stopped then.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support import Database, Server, Stub, base_env, start_server, stop_server


class ServerFactory:
    def __init__(self, db: Database, stub: Stub, tmp: pytest.TempPathFactory) -> None:
        self.db = db
        self.stub = stub
        self.tmp = tmp
        self.running: list[Server] = []

    def env(self, base: dict[str, str] | None = None, **settings: str) -> dict[str, str]:
        """``base`` (default: a fresh test environment with the model stub) plus ``settings``."""
        if base is None:
            base = base_env(self.db, OPENAI_BASE_URL=self.stub.base_url)
        return {**base, **settings}

    @contextmanager
    def __call__(
        self,
        base: dict[str, str] | None = None,
        *,
        name: str = "server",
        log_path: Path | None = None,
        workers: int = 1,
        overrides: dict[str, str] | None = None,
        ready_path: str = "/readyz",
        **settings: str,
    ) -> Iterator[Server]:
        """A started server (``start_server``: ``overrides`` win over its loopback defaults)."""
        log = log_path or Path(self.tmp.mktemp(name)) / "server.log"
        env = self.env(base, **settings)
        server = start_server(env, log, workers=workers, overrides=overrides, ready_path=ready_path)
        self.running.append(server)
        try:
            yield server
        finally:
            self.running.remove(server)
            stop_server(server)

    def stop_all(self) -> None:
        while self.running:
            stop_server(self.running.pop())
