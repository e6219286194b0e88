"""The application's own CPU per request, without HTTP: ``python -m load.inprocess me|list``.

Starts the load stack (``load.stack``: a fresh database, migrations, the model stub and a
server used only to seed through the API), then builds the application *in this process* with
the stack's settings (real PostgreSQL and Redis) and calls it directly as an ASGI app: no
socket, no HTTP parser, no client. ``time.process_time()`` around a batch is then the
application's own CPU, which is what the ratios of ``make bench-ceiling`` are made of. It found
what a wrk run could not separate from the machine's noise (docs/performance.md, "The floor and
the second CPU round").

    python -m load.inprocess me --requests 2000 --repeats 5   # CPU ms/request, each batch
    python -m load.inprocess list --profile                   # + a pyinstrument call tree
    python -m load.inprocess send --requests 300              # JSON chat turns (stub: own process)

This VM drifts by +-30% between batches: compare the minimum of several batches, and variants
measured in the same minute. The access-log lines go to ``reports/inprocess-<UTC>.log``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import sys
import time
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import uvloop
from starlette.types import ASGIApp, Message

from load.gate import say
from load.load_env import load_server_env
from load.seed import COOKIE
from load.seed_platform import seed_platform
from load.stack import ROOT, running_stack

CONCURRENCY = 16  # requests in flight, above the default pool of 10 as under wrk -c32
WARMUP = 400
# ``send``: JSON turns (the stub answers at once) rotating over the seeded conversations, whose
# histories grow to the history cap during the warm-up, as in ``make bench-ceiling``.
SEND_BODY = b'{"content": "Tell me about the weather in three short sentences."}'
SEND_TARGETS: dict[str, list[str]] = {}
_rotation = itertools.count()


async def _one(app: ASGIApp, path: str, headers: list[tuple[bytes, bytes]]) -> int:
    status: list[int] = []
    method, body = "GET", b""
    if path in SEND_TARGETS:  # a JSON chat turn: the next conversation of the rotation
        method, body = "POST", SEND_BODY
        path = SEND_TARGETS[path][next(_rotation) % len(SEND_TARGETS[path])]
        headers = [*headers, (b"content-type", b"application/json")]

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            status.append(int(message["status"]))

    route, _, query = path.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": route,
        "raw_path": route.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    await app(scope, receive, send)
    return status[0]


async def batch(
    app: ASGIApp, path: str, headers: list[tuple[bytes, bytes]], requests: int
) -> Counter[int]:
    statuses: Counter[int] = Counter()

    async def worker(count: int) -> None:
        for _ in range(count):
            statuses[await _one(app, path, headers)] += 1

    await asyncio.gather(*(worker(requests // CONCURRENCY) for _ in range(CONCURRENCY)))
    return statuses


def _apply(env: Mapping[str, str]) -> None:
    for key, value in env.items():
        os.environ[key] = value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("endpoint", choices=["me", "list", "healthz", "send"])
    parser.add_argument("--requests", type=int, default=2000, help="per batch (max 20000)")
    parser.add_argument("--repeats", type=int, default=5, help="batches (max 20)")
    parser.add_argument("--profile", action="store_true", help="one batch under pyinstrument")
    args = parser.parse_args(argv)
    requests, repeats = min(args.requests, 20_000), min(args.repeats, 20)
    reports = ROOT / "reports"
    reports.mkdir(exist_ok=True)
    label = f"inprocess-{args.endpoint}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    with running_stack(reports, label, extra_env=load_server_env()) as stack:
        platform = asyncio.run(seed_platform(stack, users=2, conversations=30, turns=1))
        user = platform.users[0]
        _apply(stack.server_env)
        from app.main import create_app  # after the environment holds the stack's settings

        path = {
            "healthz": "/healthz",  # the middleware stack alone, no principal
            "me": "/v1/me",
            "list": f"/v1/workspaces/{user.workspace_id}/conversations?limit=20",
            "send": "send",
        }[args.endpoint]
        SEND_TARGETS["send"] = [f"/v1/conversations/{c}/messages" for c in user.conversations]
        host = platform.api_url.split("//", 1)[1]
        headers = [
            (b"host", host.encode()),
            (b"accept", b"application/json"),
            (b"cookie", f"{COOKIE}={user.cookie}".encode()),
            (b"origin", platform.api_url.encode()),
            (b"x-forwarded-for", user.ip.encode()),
        ]
        # The app's logger binds stdout when first used: one redirect around all of it.
        with (reports / f"{label}.log").open("w") as sink, contextlib.redirect_stdout(sink):
            app = create_app()
            results = uvloop.run(_measure(app, path, headers, requests, repeats, args.profile))
        cpu = [ms for ms, _ in results[0]]
        each = " ".join(f"{ms:.3f}" for ms in cpu)
        say(f"{args.endpoint}: CPU ms/request per batch {each}; min {min(cpu):.3f}")
        say(f"statuses: {dict(sum((s for _, s in results[0]), Counter()))}")
        if results[1]:
            out = reports / f"{label}-pyinstrument.txt"
            out.write_text(results[1])
            say(f"call tree: {out}")
    return 0


async def _measure(
    app: Any,
    path: str,
    headers: list[tuple[bytes, bytes]],
    requests: int,
    repeats: int,
    profile: bool,
) -> tuple[list[tuple[float, Counter[int]]], str]:
    results: list[tuple[float, Counter[int]]] = []
    tree = ""
    async with app.router.lifespan_context(app):
        await batch(app, path, headers, WARMUP)
        if profile:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0005, async_mode="disabled")
            profiler.start()
            started = time.process_time()
            statuses = await batch(app, path, headers, requests)
            results.append((1000 * (time.process_time() - started) / requests, statuses))
            profiler.stop()
            tree = profiler.output_text(unicode=False, color=False, show_all=True)
        else:
            for _ in range(repeats):
                started = time.process_time()
                statuses = await batch(app, path, headers, requests)
                results.append((1000 * (time.process_time() - started) / requests, statuses))
    return results, tree


if __name__ == "__main__":
    sys.exit(main())
