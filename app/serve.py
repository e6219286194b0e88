"""``launchproof serve``: the API under uvicorn, with the options production relies on.

Its own module so app/cli.py stays a table of commands. ``--ssl-certfile``/``--ssl-keyfile``
serve TLS directly (local development, the scorecard's loopback stack in tests); production
terminates TLS at the edge (Cloudflare, docs/deploy.md) and never needs them.
"""

from __future__ import annotations

import argparse
import sys

from app.core.config import get_settings

KEEP_ALIVE_SECONDS = 5
# TLS served by uvicorn itself: forward-secret AEAD suites only for TLS 1.2 (TLS 1.3 suites are
# all AEAD and not governed by this string); Python's default minimum version is TLS 1.2.
TLS12_CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20"


def add_serve_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = sub.add_parser("serve", help="run the API with uvicorn")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--ssl-certfile", help="serve TLS with this certificate chain (PEM)")
    serve.add_argument("--ssl-keyfile", help="the private key of --ssl-certfile (PEM)")
    serve.set_defaults(func=serve_command)


def serve_command(args: argparse.Namespace) -> int:
    import uvicorn

    if bool(args.ssl_certfile) != bool(args.ssl_keyfile):
        sys.stderr.write("error: --ssl-certfile and --ssl-keyfile go together\n")
        return 2
    if args.workers > 1:
        from app.core.metrics_http import prepare_multiprocess_dir

        prepare_multiprocess_dir()
    tls = (
        {
            "ssl_certfile": args.ssl_certfile,
            "ssl_keyfile": args.ssl_keyfile,
            "ssl_ciphers": TLS12_CIPHERS,
        }
        if args.ssl_certfile
        else {}
    )
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=False,  # the app resolves client IPs itself, from trusted proxies only
        server_header=False,
        date_header=False,
        # httptools (llhttp) with the two guards it lacks (app/core/guarded_httptools.py): a
        # request head is cut off with 431 once it passes 16 KiB while it arrives (plain
        # httptools buffers heads of any size) and must be complete within its deadline
        # (slowloris). Measured 0.06-0.17 ms of CPU per request cheaper than h11
        # (docs/performance.md, "HTTP parser"); tests/edge/test_request_heads.py guards the cap.
        http="app.core.guarded_httptools:GuardedHttpToolsProtocol",
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        access_log=False,
        log_level="warning",
        log_config=None,  # keep this process's logging (uvicorn's own config is plain text)
        # SIGTERM: stop accepting, let open responses finish for this long, then cancel them
        # (open event streams end with an SSE error event: app/core/drain.py).
        timeout_graceful_shutdown=get_settings().shutdown_grace_seconds,
        **tls,
    )
    return 0
