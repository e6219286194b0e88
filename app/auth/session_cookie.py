"""The session cookie: ``HttpOnly; Secure; SameSite=Lax; Path=/``, ``__Host-`` prefixed.

The token never reaches JavaScript (HttpOnly) and so never needs browser storage.
"""

from __future__ import annotations

from starlette.responses import Response

from app.core.config import Settings


def set_session_cookie(response: Response, settings: Settings, token: str, max_age: int) -> None:
    response.set_cookie(
        settings.session_cookie_name,
        token,
        max_age=max_age,
        path="/",
        secure=settings.session_cookie_secure,
        httponly=True,
        samesite="lax",
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        settings.session_cookie_name,
        path="/",
        secure=settings.session_cookie_secure,
        httponly=True,
        samesite="lax",
    )
