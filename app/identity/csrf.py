"""CSRF defence for cookie-authenticated writes (and for the login/signup forms themselves).

A browser attaches the session cookie to cross-site requests; SameSite=Lax stops most of them,
and this check stops the rest. An unsafe request that rides on a cookie must:
  * come from an allowed origin: ``Origin`` exactly in ALLOWED_ORIGINS (or, when a browser sent
    no Origin, ``Sec-Fetch-Site: same-origin``); a request with neither header is refused;
  * carry ``Content-Type: application/json`` when it has a body, which a cross-site HTML form
    cannot send without a CORS preflight.
API-key requests (``Authorization: Bearer``) are exempt: browsers never attach those by
themselves. CORS is not relied on: it blocks reading responses, not sending requests.
"""

from __future__ import annotations

import re

from fastapi import Request

from app.core.config import Settings
from app.core.errors import Forbidden, UnsupportedMediaType
from app.core.metrics import CSRF_REJECTIONS

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _same_origin(request: Request, settings: Settings) -> bool:
    origin = request.headers.get("origin")
    if origin is not None:
        return origin.lower() in settings.allowed_origins or origin.lower() == _public_origin(
            settings
        )
    return request.headers.get("sec-fetch-site", "").lower() == "same-origin"


def _public_origin(settings: Settings) -> str:
    scheme, _, rest = settings.public_url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}".lower()


def _has_body(request: Request) -> bool:
    length = request.headers.get("content-length")
    return bool(request.headers.get("transfer-encoding")) or (length is not None and length != "0")


# Files: the upload route takes multipart/form-data (a browser cannot upload a file as JSON). A
# cross-site form could send multipart too, so there the exact-Origin check above is what stops
# it; it has already passed when this is consulted.
_UPLOAD_PATH = re.compile(r"^/v1/workspaces/[^/]+/files$")


def _upload(request: Request, content_type: str) -> bool:
    return content_type == "multipart/form-data" and bool(_UPLOAD_PATH.match(request.url.path))


def enforce_csrf(request: Request, settings: Settings) -> None:
    """Raise 403/415 unless this cookie-borne unsafe request is demonstrably same-site."""
    if request.method in SAFE_METHODS:
        return
    if not _same_origin(request, settings):
        CSRF_REJECTIONS.inc()
        raise Forbidden("Cross-site request refused.", code="csrf_origin_mismatch")
    if _has_body(request):
        content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if content_type != "application/json" and not _upload(request, content_type):
            CSRF_REJECTIONS.inc()
            raise UnsupportedMediaType("Send JSON (application/json).", code="json_required")
