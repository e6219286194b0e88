"""``GET /.well-known/security.txt``: public, not in the OpenAPI schema (RFC 9116)."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from starlette.responses import PlainTextResponse

from app.core.errors import NotFound
from app.disclosure.security_txt import render

router = APIRouter(include_in_schema=False)


@router.get("/.well-known/security.txt")
async def security_txt(request: Request) -> PlainTextResponse:
    """The vulnerability-report contact; 404 when SECURITY_CONTACT is not configured."""
    settings = request.app.state.settings
    if settings.security_contact is None:
        raise NotFound("Not found.")
    body = render(settings.security_contact, settings.public_url, dt.datetime.now(dt.UTC).date())
    return PlainTextResponse(body, media_type="text/plain; charset=utf-8")
