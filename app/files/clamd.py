"""A small asyncio client for clamd's INSTREAM protocol.

Hand-written on purpose: the PyPI clients (``clamd`` 1.0.2, ``pyClamd`` 0.4.0) are synchronous
and unmaintained for years, and the protocol is a few lines (docs/files.md): send
``zINSTREAM\\0``, then chunks prefixed by their 4-byte big-endian length, then a zero length;
read one NUL-terminated reply: ``stream: OK``, ``stream: <signature> FOUND`` or ``... ERROR``.
Every exchange has an overall timeout. Anything but a clear OK/FOUND raises ``ScannerError``,
so a broken, overloaded or size-limited scanner can never be mistaken for "clean".
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_REPLY_BYTES = 4096
SIGNATURE_MAX_CHARS = 200


class ScannerError(Exception):
    """clamd was unreachable, timed out, or answered something other than OK/FOUND."""


class ScannerUnavailable(ScannerError):
    """clamd could not be reached at all: a scanner outage, not a problem with one file."""


@dataclass(frozen=True)
class ScanResult:
    infected: bool
    signature: str | None = None


class ClamdClient:
    def __init__(self, host: str, port: int, *, timeout: float) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout

    @classmethod
    def from_url(cls, url: str, *, timeout: float) -> ClamdClient:
        parts = urlsplit(url)
        if parts.scheme != "tcp" or not parts.hostname or parts.port is None:
            raise ValueError("CLAMD_URL must look like tcp://host:port")
        return cls(parts.hostname, parts.port, timeout=timeout)

    async def _exchange(self, command: bytes, chunks: AsyncIterator[bytes] | None = None) -> str:
        try:
            async with asyncio.timeout(self.timeout):
                try:
                    reader, writer = await asyncio.open_connection(self.host, self.port)
                except OSError:
                    raise ScannerUnavailable("clamd is unreachable") from None
                try:
                    writer.write(command)
                    if chunks is not None:
                        async for chunk in chunks:
                            if chunk:
                                writer.write(struct.pack("!L", len(chunk)) + chunk)
                                await writer.drain()
                        writer.write(struct.pack("!L", 0))
                    await writer.drain()
                    reply = await reader.readuntil(b"\0")
                finally:
                    writer.close()
                    await writer.wait_closed()
        except (OSError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            raise ScannerError("clamd did not answer") from None
        if len(reply) > MAX_REPLY_BYTES:
            raise ScannerError("clamd answered too much")
        return reply.rstrip(b"\0").decode("utf-8", "replace").strip()

    async def ping(self) -> bool:
        return await self._exchange(b"zPING\0") == "PONG"

    async def version(self) -> str:
        return (await self._exchange(b"zVERSION\0"))[:120]

    async def scan(self, chunks: AsyncIterator[bytes]) -> ScanResult:
        """Scan a byte stream. ``ScannerError`` for anything that is not a clear verdict."""
        reply = await self._exchange(b"zINSTREAM\0", chunks)
        if reply == "stream: OK":
            return ScanResult(infected=False)
        if reply.startswith("stream: ") and reply.endswith(" FOUND"):
            signature = reply.removeprefix("stream: ").removesuffix(" FOUND").strip()
            return ScanResult(infected=True, signature=signature[:SIGNATURE_MAX_CHARS])
        # "INSTREAM size limit exceeded. ERROR" and friends: not a verdict.
        raise ScannerError("clamd returned an error")
