"""``python -m app serve`` with a chosen HTTP parser, for the h11-versus-httptools comparison.

Every uvicorn option is the one ``app/serve.py`` uses, except ``http``: the production server runs
httptools with a head cap and deadline (``app/core/guarded_httptools.py``); ``--http h11`` runs
h11 with the same guards (``app/core/slow_heads.py``, and h11's own
``h11_max_incomplete_event_size``), so ``load.ceiling --http h11`` measures what the parser
alone changes. Loopback only; never used to
serve real traffic.
"""

from __future__ import annotations

import argparse

import uvicorn

from app.core.slow_heads import MAX_REQUEST_HEAD_BYTES
from app.serve import KEEP_ALIVE_SECONDS

PROTOCOLS: dict[str, str] = {
    "h11": "app.core.slow_heads:HeadTimeoutH11Protocol",
    "httptools": "app.core.guarded_httptools:GuardedHttpToolsProtocol",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", choices=["127.0.0.1"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--http", choices=sorted(PROTOCOLS), default="httptools")
    args = parser.parse_args()
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=False,
        server_header=False,
        date_header=False,
        http=PROTOCOLS[args.http],
        h11_max_incomplete_event_size=MAX_REQUEST_HEAD_BYTES,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        access_log=False,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
