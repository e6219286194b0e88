"""The storage port: what the files domain needs from wherever bytes are kept.

Keys are ``{workspace_id}/{random}``: made by the service, never from a client's filename. Puts
take a finished temporary file (the upload was counted, sniffed and checked while it streamed to
disk), so an adapter never stores a half-received or refused object.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol

CHUNK_BYTES = 64 * 1024


class StorageError(Exception):
    """The backend failed (unreachable, refused, missing object). Never carries a URL."""


class Storage(Protocol):
    name: str

    async def put(self, key: str, source: Path, *, content_type: str) -> None:
        """Store ``source`` under ``key`` (whole or not at all)."""

    def read(self, key: str) -> AsyncIterator[bytes]:
        """The object's bytes in chunks of at most ``CHUNK_BYTES``; raises StorageError."""

    async def delete(self, key: str) -> None:
        """Remove the object; removing a missing object is not an error."""

    async def check(self) -> bool:
        """Readiness: the backend answers (short, cheap)."""
