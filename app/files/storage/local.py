"""A local directory as object storage (development default, single-node deployments).

File I/O is blocking, so every call runs in a worker thread (anyio.to_thread). A put copies the
finished temporary file next to its destination and renames it into place: readers never see a
partial object. Keys are checked to stay under the root (they are generated, but the adapter
does not rely on it).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO

import anyio.to_thread

from app.files.storage.port import CHUNK_BYTES, StorageError


class LocalStorage:
    name = "local"

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root) or path == self.root:
            raise StorageError("key outside the storage root")
        return path

    def _put(self, key: str, source: Path) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        partial = target.with_name(f".{target.name}.{uuid.uuid4().hex}.partial")
        try:
            shutil.copyfile(source, partial)
            os.chmod(partial, 0o600)
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)

    async def put(self, key: str, source: Path, *, content_type: str) -> None:
        del content_type  # the database row carries it
        try:
            await anyio.to_thread.run_sync(self._put, key, source)
        except OSError as exc:
            raise StorageError(type(exc).__name__) from None

    async def read(self, key: str) -> AsyncIterator[bytes]:
        path = self._path(key)
        try:
            handle: BinaryIO = await anyio.to_thread.run_sync(path.open, "rb")
        except OSError as exc:
            raise StorageError(type(exc).__name__) from None
        try:
            while chunk := await anyio.to_thread.run_sync(handle.read, CHUNK_BYTES):
                yield chunk
        finally:
            await anyio.to_thread.run_sync(handle.close)

    async def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            await anyio.to_thread.run_sync(lambda: path.unlink(missing_ok=True))
        except OSError as exc:
            raise StorageError(type(exc).__name__) from None

    async def check(self) -> bool:
        def probe() -> bool:
            self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
            return os.access(self.root, os.W_OK)

        return await anyio.to_thread.run_sync(probe)
