"""The console's files: read once from ``static/`` into memory, served by exact name only.

A fixed table (name -> bytes, type) instead of a directory mount: no path is ever joined from
the request, so there is no traversal to get wrong, and a name outside the table is a plain
404 problem+json like any other unknown resource.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

STATIC = Path(__file__).parent / "static"
SHELL = "index.html"
TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}


@dataclass(frozen=True)
class Asset:
    body: bytes
    media_type: str


@functools.cache
def assets() -> dict[str, Asset]:
    """Every servable file of ``static/`` (flat; the shell excluded: it has its own routes)."""
    table: dict[str, Asset] = {}
    for path in sorted(STATIC.iterdir()):
        media_type = TYPES.get(path.suffix)
        if path.is_file() and media_type is not None:
            table[path.name] = Asset(path.read_bytes(), media_type)
    return table


@functools.cache
def shell() -> bytes:
    return (STATIC / SHELL).read_bytes()
