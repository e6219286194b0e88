"""Running the stub: in the foreground (``python -m app model-stub``) or in a test's thread.

Both bind loopback only. The control API has no authentication (anyone who can reach it can
script the "model"), so a non-loopback address is refused rather than merely discouraged.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from ipaddress import ip_address
from typing import Any

import uvicorn
from fastapi import FastAPI

from app.model_stub.app import create_stub_app

DEFAULT_PORT = 8300


class NotLoopback(ValueError):
    """The requested bind address is reachable from other machines."""


def check_loopback(host: str) -> None:
    """Accept ``localhost`` and loopback IP literals (127.0.0.0/8, ::1); refuse everything else.

    Hostnames other than ``localhost`` are refused without resolving them: a name is only as
    loopback as the resolver says today.
    """
    if host == "localhost":
        return
    try:
        loopback = ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise NotLoopback(f"the model stub binds loopback only (127.0.0.1, ::1), not {host!r}")


def _config(app: Any, host: str, port: int, **extra: Any) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        ws="none",
        access_log=False,  # request lines only, but there is nothing to learn from them
        server_header=False,
        date_header=False,
        log_level="warning",
        log_config=None,  # the CLI's JSON logging (app/core/logging.py), not uvicorn's text
        **extra,
    )


def serve(host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> None:
    """Run the stub until interrupted. Raises :class:`NotLoopback` before binding anything."""
    check_loopback(host)
    uvicorn.Server(_config("app.model_stub.app:create_stub_app", host, port, factory=True)).run()


@dataclass(frozen=True)
class RunningStub:
    app: FastAPI
    url: str  # http://127.0.0.1:PORT

    @property
    def api_base(self) -> str:
        """What ``AsyncOpenAI(base_url=...)`` takes."""
        return f"{self.url}/v1"


@contextmanager
def serve_in_thread(host: str = "127.0.0.1", port: int = 0) -> Iterator[RunningStub]:
    """A fresh stub on a free loopback port, in a daemon thread, stopped on exit."""
    check_loopback(host)
    app = create_stub_app()
    server = uvicorn.Server(_config(app, host, port, timeout_graceful_shutdown=2))
    thread = threading.Thread(target=server.run, name="model-stub", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the model stub did not start")
        time.sleep(0.01)
    bound_port = server.servers[0].sockets[0].getsockname()[1]
    display_host = f"[{host}]" if ":" in host else host
    try:
        yield RunningStub(app=app, url=f"http://{display_host}:{bound_port}")
    finally:
        server.should_exit = True
        thread.join(timeout=10)
