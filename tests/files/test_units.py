"""The pure pieces, without a server: names, dispositions, sniffing, archive limits, backoff."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.files.archives import ArchiveRefused, inspect_ooxml, read_member
from app.files.downloads import content_disposition, download_headers
from app.files.errors import FileTypeMismatch, UnsupportedFileType
from app.files.filenames import MAX_NAME_CHARS, extension_of, sanitise_filename
from app.files.jobs import BACKOFF_MAX_SECONDS, backoff
from app.files.sniffing import Limits, sniff
from tests.factories.files import docx_bytes, pdf_bytes, png_bytes

pytestmark = pytest.mark.checklist(
    "C8",
    red="decide a file's type from its name instead of its bytes (app/files/sniffing.py), accept "
    "markup, drop the archive limits, or drop nosniff, the sandbox CSP or attachment from "
    "download_headers",
)

LIMITS = Limits(archive_max_entries=20, archive_max_expanded_bytes=1024 * 1024)


def _sniff(tmp_path: Path, name: str, data: bytes, declared: str = "") -> str:
    path = tmp_path / "upload"
    path.write_bytes(data)
    return sniff(
        path, size=len(data), extension=extension_of(name), declared=declared, limits=LIMITS
    )


@pytest.mark.parametrize(
    "raw",
    ["a\u202eb.txt", "a\u2066b.txt", "a\u200bb.txt", "a\x00b.txt", "a\x7fb.txt", "a\u2028b.txt"],
)
def test_invisible_and_control_characters_are_removed(raw: str) -> None:
    assert sanitise_filename(raw) == "ab.txt"


def test_names_are_capped_keeping_the_extension() -> None:
    name = sanitise_filename("x" * 1000 + ".markdown")
    assert len(name) == MAX_NAME_CHARS
    assert name.endswith(".markdown")


def test_dispositions_are_ascii_headers_with_an_exact_utf8_name() -> None:
    value = content_disposition('naïve "quote"\\; x.txt')
    assert value.isascii()
    assert value.startswith('attachment; filename="na_ve _quote__; x.txt"')
    assert "filename*=UTF-8''na%C3%AFve%20%22quote%22%5C%3B%20x.txt" in value


def test_text_is_served_with_a_charset_and_images_as_themselves() -> None:
    assert download_headers("a.md", "text/markdown", 3)["Content-Type"] == (
        "text/markdown; charset=utf-8"
    )
    assert download_headers("a.png", "image/png", 3)["Content-Type"] == "image/png"


def test_download_headers_pin_no_sniffing_themselves() -> None:
    """The route sets nosniff, a sandbox CSP and no-store on its own, not only through the
    app-wide security headers (which a proxy or another mount might not add)."""
    headers = download_headers("a.txt", "text/plain", 3)
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in headers["Content-Security-Policy"]
    assert "no-store" in headers["Cache-Control"]


def test_binary_types_come_from_signatures(tmp_path: Path) -> None:
    assert _sniff(tmp_path, "x.png", png_bytes()) == "image/png"
    assert _sniff(tmp_path, "x", pdf_bytes()) == "application/pdf"
    assert _sniff(tmp_path, "x.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\0" * 64) == (
        "image/jpeg"
    )


@pytest.mark.parametrize(
    "head",
    [b"<html>", b"<!doctype html>", b"<svg ", b"<?xml version='1.0'?>", b"\xef\xbb\xbf<script>"],
)
def test_markup_is_refused_whatever_its_name(tmp_path: Path, head: bytes) -> None:
    with pytest.raises(UnsupportedFileType):
        _sniff(tmp_path, "notes.txt", head + b"<p>hi</p>")


def test_an_extension_may_only_pick_among_text_labels(tmp_path: Path) -> None:
    assert _sniff(tmp_path, "a.csv", b"a,b\n") == "text/csv"
    assert _sniff(tmp_path, "a.md", b"# a\n") == "text/markdown"
    with pytest.raises(FileTypeMismatch):
        _sniff(tmp_path, "a.png", b"# a\n")
    with pytest.raises(FileTypeMismatch):
        _sniff(tmp_path, "a.txt", png_bytes())


def test_invalid_utf8_is_not_text(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedFileType):
        _sniff(tmp_path, "a.txt", b"caf\xe9 au lait\n")


def test_archive_limits_hold_before_any_member_is_read(tmp_path: Path) -> None:
    path = tmp_path / "doc.docx"
    path.write_bytes(docx_bytes(["x"], extra_entries=25))
    with pytest.raises(ArchiveRefused):
        inspect_ooxml(path, max_entries=20, max_expanded=10**9)
    path.write_bytes(docx_bytes(["x"], padding=5 * 1024 * 1024))
    with pytest.raises(ArchiveRefused):
        inspect_ooxml(path, max_entries=20, max_expanded=1024 * 1024)
    # Reading a member stops at the limit, whatever the member inflates to.
    assert len(read_member(path, "word/padding.bin", limit=1000, max_entries=20)) == 1000


def test_scan_retries_back_off_to_a_ceiling() -> None:
    delays = [backoff(n).total_seconds() for n in (1, 2, 3, 30)]
    assert delays[:3] == [5.0, 10.0, 20.0]
    assert delays[3] == BACKOFF_MAX_SECONDS
