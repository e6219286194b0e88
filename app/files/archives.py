"""Opening OOXML (docx/xlsx) archives only within limits.

A zip's central directory declares entry counts and sizes, and both can be hostile: a million
entries, or a few kilobytes that inflate to gigabytes. ``inspect_ooxml`` refuses archives over
``max_entries`` or whose declared expanded size passes ``max_expanded``; ``read_member`` reads
at most ``limit`` bytes from one member however large it claims (or turns out) to be, so a lying
header cannot make us inflate more than we asked for.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Literal

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ArchiveRefused(Exception):
    """The archive is malformed, over a limit, or not a docx/xlsx."""


def inspect_ooxml(path: Path, *, max_entries: int, max_expanded: int) -> Literal["docx", "xlsx"]:
    """Which OOXML document ``path`` is, after checking the archive's limits."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            if len(infos) > max_entries:
                raise ArchiveRefused("too many entries")
            if sum(info.file_size for info in infos) > max_expanded:
                raise ArchiveRefused("expands beyond the limit")
            names = {info.filename for info in infos}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError):
        raise ArchiveRefused("not a readable zip archive") from None
    if "[Content_Types].xml" not in names:
        raise ArchiveRefused("not an Office Open XML document")
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    raise ArchiveRefused("not a docx or xlsx document")


def read_member(path: Path, member: str, *, limit: int, max_entries: int) -> bytes:
    """At most ``limit`` bytes of ``member`` (decompressed)."""
    try:
        with zipfile.ZipFile(path) as archive:
            if len(archive.infolist()) > max_entries:
                raise ArchiveRefused("too many entries")
            with archive.open(member) as handle:
                return handle.read(limit)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError):
        raise ArchiveRefused("member not readable") from None
