"""``python -m app serve`` with a chosen HTTP parser, for the h11-versus-httptools comparison.

Every uvicorn option is the one ``app/serve.py`` uses, except ``http``: the production server runs
h11 (its request-head cap); this lets ``load.ceiling --http httptools`` measure what that costs.
Loopback only; never used to serve real traffic.
"""

from __future__ import annotations

import argparse
from typing import Literal

import uvicorn

from app.serve import KEEP_ALIVE_SECONDS, MAX_REQUEST_HEAD_BYTES

Parser = Literal["h11", "httptools"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", choices=["127.0.0.1"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--http", choices=["h11", "httptools"], default="h11")
    args = parser.parse_args()
    http: Parser = args.http
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=False,
        server_header=False,
        date_header=False,
        http=http,
        h11_max_incomplete_event_size=MAX_REQUEST_HEAD_BYTES,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        access_log=False,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
