"""Receiving a ``multipart/form-data`` upload as a stream, straight to a temporary file.

python-multipart's push parser gets the body chunk by chunk (``request.stream()``); the file
part's bytes are counted, hashed and written to disk as they arrive, and the count is checked
on every chunk: past ``limit`` the upload stops at once with 413, having buffered at most one
network chunk in memory. The temporary file is the only copy until every check has passed, and
it is always removed (``received_upload`` is a context manager), so a refused or interrupted
upload leaves nothing behind. Exactly one part is accepted, named ``file`` and carrying a
filename; anything else is refused (unknown fields are rejected, as everywhere in the API).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import anyio.to_thread
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from app.files.errors import InvalidUpload, UploadTooLarge
from app.files.filenames import sanitise_filename

MAX_BOUNDARY_CHARS = 70  # RFC 2046
FILE_FIELD = b"file"


@dataclass(frozen=True)
class ReceivedUpload:
    path: Path
    size: int
    sha256: str
    display_name: str
    declared_type: str


@dataclass
class _State:
    limit: int
    handle: BinaryIO
    size: int = 0
    digest: hashlib._Hash = field(default_factory=hashlib.sha256)
    header_field: bytearray = field(default_factory=bytearray)
    header_value: bytearray = field(default_factory=bytearray)
    headers: dict[bytes, bytes] = field(default_factory=dict)
    parts: int = 0
    in_file: bool = False
    filename: str | None = None
    declared_type: str = ""
    pending: bytearray = field(default_factory=bytearray)
    finished: bool = False

    def on_part_begin(self) -> None:
        self.parts += 1
        if self.parts > 1:
            raise InvalidUpload("Send exactly one part, named 'file'.")
        self.headers = {}

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        self.headers[bytes(self.header_field).strip().lower()] = bytes(self.header_value).strip()
        self.header_field.clear()
        self.header_value.clear()

    def on_headers_finished(self) -> None:
        disposition, options = parse_options_header(self.headers.get(b"content-disposition", b""))
        filename = options.get(b"filename")
        if disposition != b"form-data" or options.get(b"name") != FILE_FIELD or filename is None:
            raise InvalidUpload("Send exactly one part, named 'file', with a filename.")
        self.filename = filename.decode("utf-8", "replace")
        self.declared_type = self.headers.get(b"content-type", b"").decode("latin-1")[:200]
        self.in_file = True

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if not self.in_file:
            return
        self.size += end - start
        if self.size > self.limit:
            raise UploadTooLarge("The file exceeds the upload limit or the workspace's quota.")
        chunk = data[start:end]
        self.digest.update(chunk)
        self.pending += chunk

    def on_part_end(self) -> None:
        self.in_file = False

    def on_end(self) -> None:
        self.finished = True


def boundary_of(content_type: str) -> bytes:
    """The multipart boundary, or 415-style refusal as a clear 422 when it is malformed."""
    kind, options = parse_options_header(content_type)
    boundary = options.get(b"boundary", b"")
    if kind != b"multipart/form-data" or not 0 < len(boundary) <= MAX_BOUNDARY_CHARS:
        raise InvalidUpload("Upload with multipart/form-data and one part named 'file'.")
    return boundary


@contextlib.asynccontextmanager
async def received_upload(
    stream: AsyncIterator[bytes], *, content_type: str, limit: int
) -> AsyncIterator[ReceivedUpload]:
    """Receive the upload into a private temporary file, yielded while the caller stores it."""
    boundary = boundary_of(content_type)
    fd, name = tempfile.mkstemp(prefix="lp-upload-")
    path = Path(name)
    handle = os.fdopen(fd, "wb")
    try:
        state = _State(limit=limit, handle=handle)
        parser = MultipartParser(
            boundary,
            {
                "on_part_begin": state.on_part_begin,
                "on_part_data": state.on_part_data,
                "on_part_end": state.on_part_end,
                "on_header_field": state.on_header_field,
                "on_header_value": state.on_header_value,
                "on_header_end": state.on_header_end,
                "on_headers_finished": state.on_headers_finished,
                "on_end": state.on_end,
            },
        )
        async for chunk in stream:
            try:
                parser.write(chunk)
            except MultipartParseError:
                raise InvalidUpload("The multipart body is malformed.") from None
            if state.pending:
                data = bytes(state.pending)
                state.pending.clear()
                await anyio.to_thread.run_sync(handle.write, data)
        try:
            parser.finalize()
        except MultipartParseError:
            raise InvalidUpload("The multipart body is malformed.") from None
        if not state.finished or state.filename is None:
            raise InvalidUpload("The multipart body ended early or carried no file.")
        await anyio.to_thread.run_sync(handle.close)
        yield ReceivedUpload(
            path=path,
            size=state.size,
            sha256=state.digest.hexdigest(),
            display_name=sanitise_filename(state.filename),
            declared_type=state.declared_type,
        )
    finally:
        handle.close()
        await anyio.to_thread.run_sync(lambda: path.unlink(missing_ok=True))
