"""The anonymous ceremony cookie of a passkey sign-in: ``__Host-lp_passkey`` (HttpOnly,
SameSite=Strict, two minutes), like the half-session cookie of two-step login."""

from __future__ import annotations

from starlette.responses import Response

from app.core.config import Settings
from app.identity.session_cookie import clear_strict_cookie, set_strict_cookie


def passkey_cookie_name(settings: Settings) -> str:
    if settings.session_cookie_over_plain_http:
        return "lp_passkey"
    return "__Host-lp_passkey"


def set_ceremony_cookie(response: Response, settings: Settings, token: str, max_age: int) -> None:
    set_strict_cookie(response, settings, passkey_cookie_name(settings), token, max_age)


def clear_ceremony_cookie(response: Response, settings: Settings) -> None:
    clear_strict_cookie(response, settings, passkey_cookie_name(settings))
