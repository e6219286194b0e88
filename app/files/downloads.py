"""Response headers for serving a stored file so that it cannot execute in a browser.

- ``Content-Disposition: attachment`` with an ASCII ``filename`` fallback and the exact name as
  RFC 5987 ``filename*`` (RFC 6266 section 4.3): the browser saves, never renders.
- ``Content-Type`` is the type sniffed at upload (text types with ``charset=utf-8``); the
  allowlist has no HTML or SVG, so no served type is a document a browser would run.
- ``X-Content-Type-Options: nosniff``: the browser may not second-guess that type.
- ``Content-Security-Policy: default-src 'none'; sandbox``: even if opened in place, no script,
  no plugin, no same-origin access.
- ``Cache-Control: private, no-store``: no shared cache keeps a private file.
Starlette's FileResponse builds a similar disposition but offers no helper for streamed
bodies, so the few lines are here.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from app.files.sniffing import ALLOWED, TEXT_TYPES

DOWNLOAD_CSP = "default-src 'none'; sandbox; frame-ancestors 'none'"
_UNSAFE_ASCII = re.compile(r"[^A-Za-z0-9 !#$&+,.;=@^_`{}~()\[\]-]")


def content_disposition(name: str) -> str:
    fallback = _UNSAFE_ASCII.sub("_", name).strip() or "file"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def download_headers(name: str, content_type: str, size: int) -> dict[str, str]:
    media = _media(content_type)
    return {
        "Content-Type": media,
        "Content-Length": str(size),
        "Content-Disposition": content_disposition(name),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": DOWNLOAD_CSP,
        "Cache-Control": "private, no-store",
        "Cross-Origin-Resource-Policy": "same-origin",
    }


def _media(content_type: str) -> str:
    return f"{content_type}; charset=utf-8" if content_type in TEXT_TYPES else content_type


# The download's documented media types: exactly the types an upload can be stored as (sniffed
# from the bytes, never the client's word), each as sent (text types with their charset).
DOWNLOAD_CONTENT: dict[str, dict[str, object]] = {
    _media(content_type): {"schema": {"type": "string", "format": "binary"}}
    for content_type in sorted(ALLOWED)
}
