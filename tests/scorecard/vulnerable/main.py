"""Build and serve the vulnerable app: ``python -m tests.scorecard.vulnerable.main``.

One process, one in-memory store, two listeners on loopback: plain http (which serves the app
instead of redirecting) and, with a certificate, https. ``--legacy-tls`` also accepts TLS 1.0 and
1.1 with any cipher. ``/docs`` and ``/openapi.json`` are FastAPI's defaults: public.
"""

from __future__ import annotations

import argparse
import asyncio
import ssl
from collections.abc import Callable
from pathlib import Path

import uvicorn
from fastapi import FastAPI, Request
from starlette.responses import Response
from starlette.types import ASGIApp

from tests.scorecard.vulnerable import (
    routes_auth,
    routes_chat,
    routes_factors,
    routes_files,
    routes_ops,
    routes_workspaces,
)
from tests.scorecard.vulnerable.edge import VulnerableEdge, error_page
from tests.scorecard.vulnerable.web import Reject


def create_app(log_path: Path) -> ASGIApp:
    api = FastAPI(title="Launchproof (vulnerable fixture)", version="0.0.1")
    modules = (
        routes_ops,
        routes_auth,
        routes_workspaces,
        routes_chat,
        routes_files,
        routes_factors,
    )
    for module in modules:
        api.include_router(module.router)

    async def rejected(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Reject)
        return exc.response

    async def crashed(request: Request, exc: Exception) -> Response:
        return error_page(request.scope, exc)

    api.add_exception_handler(Reject, rejected)
    api.add_exception_handler(Exception, crashed)
    return VulnerableEdge(api, log_path)


def _legacy_tls(config: uvicorn.Config, default: Callable[[], ssl.SSLContext]) -> ssl.SSLContext:
    """uvicorn's context, opened to TLS 1.0 and up with every cipher OpenSSL still has."""
    del config
    context = default()
    context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    context.set_ciphers("ALL:@SECLEVEL=0")
    return context


def _server(app: ASGIApp, port: int, **tls: object) -> uvicorn.Server:
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        server_header=False,  # the app sends its own banner (edge.BANNER)
        access_log=False,
        log_level="warning",
        lifespan="off",
        **tls,  # type: ignore[arg-type]
    )
    return uvicorn.Server(config)


async def serve(args: argparse.Namespace) -> None:
    app = create_app(Path(args.log_file))
    servers = [_server(app, args.port)]
    if args.tls_port:
        tls: dict[str, object] = {"ssl_certfile": args.certfile, "ssl_keyfile": args.keyfile}
        if args.legacy_tls:
            tls["ssl_context_factory"] = _legacy_tls
        servers.append(_server(app, args.tls_port, **tls))
    await asyncio.gather(*(server.serve() for server in servers))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True, help="plain http")
    parser.add_argument("--tls-port", type=int, default=0)
    parser.add_argument("--certfile")
    parser.add_argument("--keyfile")
    parser.add_argument("--legacy-tls", action="store_true")
    parser.add_argument("--log-file", required=True)
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
