"""Deciding a file's type from its bytes, against the allowlist.

The client's declared content type and the filename's extension are *claims*; the bytes decide.
Binary formats are recognised by puremagic (signatures at known offsets); OOXML zips are then
opened within limits to tell docx from xlsx; everything else must be UTF-8 text without
control characters, and text that starts like markup (HTML, SVG, XML) is refused outright, so a
``.png`` that is really HTML never gets in. Within the text family the extension may only pick
the label (plain, Markdown, CSV, JSON: all inert, all served as attachments); JSON must parse.
A claim that contradicts the bytes is refused (422), as is a type off the allowlist (415).
"""

from __future__ import annotations

import codecs
import json
import re
from dataclasses import dataclass
from pathlib import Path

import puremagic

from app.files.archives import DOCX, XLSX, ArchiveRefused, inspect_ooxml
from app.files.errors import FileTypeMismatch, UnsupportedFileType

HEAD_BYTES = 8192
JSON_MAX_BYTES = 8 * 1_048_576
TEXT_TYPES = frozenset({"text/plain", "text/markdown", "text/csv", "application/json"})


@dataclass(frozen=True)
class Kind:
    content_type: str
    extensions: frozenset[str]  # names this type may carry ("" = no extension)
    declared: frozenset[str]  # client content types consistent with it


def _kind(content_type: str, extensions: str, *declared: str) -> Kind:
    return Kind(content_type, frozenset(extensions.split()), frozenset({content_type, *declared}))


ALLOWED: dict[str, Kind] = {
    kind.content_type: kind
    for kind in (
        _kind("text/plain", "txt text log", "text/x-log"),
        _kind("text/markdown", "md markdown", "text/x-markdown", "text/plain"),
        _kind("text/csv", "csv", "application/csv", "application/vnd.ms-excel", "text/plain"),
        _kind("application/json", "json", "text/json", "text/plain"),
        _kind("application/pdf", "pdf", "application/x-pdf"),
        _kind("image/png", "png"),
        _kind("image/jpeg", "jpg jpeg jpe jfif", "image/pjpeg"),
        _kind("image/gif", "gif"),
        _kind("image/webp", "webp"),
        _kind(DOCX, "docx"),
        _kind(XLSX, "xlsx"),
    )
}
# Claims that say nothing (browsers send these for unknown types).
UNINFORMATIVE = frozenset({"", "application/octet-stream", "binary/octet-stream"})
ZIP_FAMILY = frozenset(
    {
        DOCX,
        XLSX,
        "application/zip",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.ms-excel.sheet.binary.macroenabled.12",
    }
)
MARKUP = re.compile(
    rb"^\s*<(?:!doctype|html|head|body|script|svg|\?xml|iframe|object|embed|meta|style|!--)",
    re.IGNORECASE,
)
# Control characters other than tab, newline, carriage return, form feed.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Limits:
    archive_max_entries: int
    archive_max_expanded_bytes: int


def _binary_type(head: bytes) -> str | None:
    """The allowed binary type puremagic recognises in ``head`` ("zip" for OOXML), or None."""
    try:
        matches = puremagic.magic_string(head)
    except (puremagic.PureError, ValueError):
        return None
    for match in sorted(matches, key=lambda m: -m.confidence):
        mime = (match.mime_type or "").lower()
        if mime in ZIP_FAMILY:
            return "zip"
        if mime in ALLOWED and mime not in TEXT_TYPES:
            return mime
    return None


def _is_utf8_text(path: Path) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(64 * 1024):
                if CONTROL.search(decoder.decode(chunk)):
                    return False
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _text_type(path: Path, head: bytes, extension: str, size: int) -> str:
    if MARKUP.match(head.removeprefix(codecs.BOM_UTF8)):
        raise UnsupportedFileType("Markup (HTML, SVG, XML) is not accepted.")
    if not _is_utf8_text(path):
        raise UnsupportedFileType("This file type is not accepted.")
    if extension == "json":
        if size > JSON_MAX_BYTES:
            raise UnsupportedFileType("JSON files are accepted up to 8 MiB.")
        try:
            with path.open("rb") as handle:
                json.load(handle)
        except (ValueError, RecursionError):
            raise FileTypeMismatch("The file is named .json but is not valid JSON.") from None
        return "application/json"
    for content_type in ("text/markdown", "text/csv"):
        if extension in ALLOWED[content_type].extensions:
            return content_type
    return "text/plain"


def sniff(path: Path, *, size: int, extension: str, declared: str, limits: Limits) -> str:
    """The allowed content type of the file at ``path``; raises 415 or 422 otherwise."""
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    if not head:
        raise UnsupportedFileType("Empty files are not accepted.")
    binary = _binary_type(head)
    if binary == "zip":
        try:
            which = inspect_ooxml(
                path,
                max_entries=limits.archive_max_entries,
                max_expanded=limits.archive_max_expanded_bytes,
            )
        except ArchiveRefused as exc:
            raise UnsupportedFileType(f"Archive refused: {exc}.") from None
        content_type = DOCX if which == "docx" else XLSX
    elif binary is not None:
        content_type = binary
    else:  # anything else must pass as inert text (executables, HTML, SVG do not)
        content_type = _text_type(path, head, extension, size)
    kind = ALLOWED[content_type]
    if extension and extension not in kind.extensions:
        raise FileTypeMismatch(
            f"The file name's extension does not match its content ({content_type})."
        )
    claim = declared.split(";", 1)[0].strip().lower()
    if claim not in UNINFORMATIVE and claim not in kind.declared:
        raise FileTypeMismatch(
            f"The declared content type does not match the content ({content_type})."
        )
    return content_type
