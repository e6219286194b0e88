"""The session cookie: ``HttpOnly; Secure; SameSite=Lax; Path=/``, ``__Host-`` prefixed, and
the half-session cookie of two-step login (``SameSite=Strict``, five minutes).

The token never reaches JavaScript (HttpOnly) and so never needs browser storage. Development on
plain http loopback only (``Settings.session_cookie_over_plain_http``) drops Secure and the
prefix, so non-browser clients keep their session over http://127.0.0.1.
"""

from __future__ import annotations

from starlette.responses import Response

from app.core.config import Settings


def challenge_cookie_name(settings: Settings) -> str:
    """The half-session cookie; like the session cookie, ``__Host-`` needs Secure."""
    if settings.session_cookie_over_plain_http:
        return "lp_login"
    return "__Host-lp_login"


def set_session_cookie(response: Response, settings: Settings, token: str, max_age: int) -> None:
    response.set_cookie(
        settings.session_cookie_name,
        token,
        max_age=max_age,
        path="/",
        secure=cookie_secure(settings),
        httponly=True,
        samesite="lax",
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        settings.session_cookie_name,
        path="/",
        secure=cookie_secure(settings),
        httponly=True,
        samesite="lax",
    )


def cookie_secure(settings: Settings) -> bool:
    return settings.session_cookie_secure and not settings.session_cookie_over_plain_http


def set_strict_cookie(
    response: Response, settings: Settings, name: str, token: str, max_age: int
) -> None:
    """A short-lived HttpOnly, SameSite=Strict cookie of a sign-in in progress (only this
    site's own next call carries it): the two-step login's half session, a passkey ceremony."""
    response.set_cookie(
        name,
        token,
        max_age=max_age,
        path="/",
        secure=cookie_secure(settings),
        httponly=True,
        samesite="strict",
    )


def clear_strict_cookie(response: Response, settings: Settings, name: str) -> None:
    response.delete_cookie(
        name, path="/", secure=cookie_secure(settings), httponly=True, samesite="strict"
    )


def set_challenge_cookie(response: Response, settings: Settings, token: str, max_age: int) -> None:
    """The half session between password and second factor (docs/decisions/0018), five
    minutes."""
    set_strict_cookie(response, settings, challenge_cookie_name(settings), token, max_age)


def clear_challenge_cookie(response: Response, settings: Settings) -> None:
    clear_strict_cookie(response, settings, challenge_cookie_name(settings))
