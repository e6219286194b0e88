"""Display names from client filenames: kept only as sanitised metadata, never as a path.

The name a browser sends is attacker-controlled: it may carry directories (``../../etc/passwd``,
``C:\\boot.ini``), NUL and other control characters, bidirectional overrides that make
``evil\u202egnp.exe`` display as ``evilexe.png``, or megabytes of text. What survives is the last
path component, NFC-normalised, without control/format characters, trimmed and capped. Storage
keys never derive from it (they are random), and downloads encode it per RFC 6266/5987.
"""

from __future__ import annotations

import unicodedata

MAX_NAME_CHARS = 200
FALLBACK_NAME = "file"


def _allowed(char: str) -> bool:
    # Cc: control characters (NUL, newlines, ESC); Cf: format characters, which include the
    # bidi overrides/isolates (U+202A-202E, U+2066-2069) and zero-width characters; Cs/Co/Cn:
    # surrogates, private use, unassigned.
    return unicodedata.category(char) not in {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def sanitise_filename(raw: str | None) -> str:
    """A safe display name; ``file`` when nothing usable is left."""
    if not raw:
        return FALLBACK_NAME
    name = unicodedata.normalize("NFC", raw)
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(char for char in name if _allowed(char))
    name = " ".join(name.split())  # collapse whitespace runs, trim
    name = name.lstrip(".").strip()  # no hidden files, no "." or ".."
    if len(name) > MAX_NAME_CHARS:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= 10:
            name = stem[: MAX_NAME_CHARS - len(extension) - 1] + "." + extension
        else:
            name = name[:MAX_NAME_CHARS]
    return name or FALLBACK_NAME


def extension_of(name: str) -> str:
    """The lower-case extension of a sanitised name, without the dot ("" when none)."""
    stem, dot, extension = name.rpartition(".")
    return extension.lower() if dot and stem else ""
