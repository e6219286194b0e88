"""Signed-in sessions for the throwaway accounts (a minimal stand-in for ``session.py``).

H4's ``app/scorecard/session.py`` owns the shared helper (``signed_in(ctx, index)``); until it is
merged, the limits, files and latency checks sign in through this module with the same shape.
A session is made once per account and run (``ctx.state``) and signed out by a cleanup. The
cookie value stays in memory: evidence prints ``<session cookie>``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from app.scorecard.context import Account, Context

LOGIN = "/v1/auth/login"


@dataclass
class Session:
    ctx: Context
    email: str
    cookie_name: str
    cookie_value: str = field(repr=False)
    user_id: str = ""

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One counted request as this account: its cookie and the deployment's own Origin."""
        headers = {
            "Origin": self.ctx.options.base_url.rstrip("/"),
            "Cookie": f"{self.cookie_name}={self.cookie_value}",
            **dict(kwargs.pop("headers", None) or {}),
        }
        return self.ctx.probe.request(method, self.ctx.url(path), headers=headers, **kwargs)


def _session_cookie(response: httpx.Response) -> tuple[str, str] | None:
    cookies = [h.partition(";")[0] for h in response.headers.get_list("set-cookie")]
    pairs = [c.partition("=") for c in cookies if "=" in c]
    named = [(k.strip(), v) for k, _, v in pairs if "session" in k.lower()] or [
        (k.strip(), v) for k, _, v in pairs
    ]
    return named[0] if named and named[0][1] else None


def sign_in(ctx: Context, account: Account, key: str) -> Session | None:
    """Sign ``account`` in once per run (cached under ``key``); None when the login is refused."""
    cached = ctx.state.get(key)
    if cached is not None:
        return cached if isinstance(cached, Session) else None
    response = ctx.probe.request(
        "POST",
        ctx.url(LOGIN),
        json={"email": account.email, "password": account.password},
        headers={"Origin": ctx.options.base_url.rstrip("/")},
    )
    cookie = _session_cookie(response) if response.status_code == 200 else None
    if cookie is None:
        ctx.state[key] = False
        return None
    body = response.json() if "json" in response.headers.get("content-type", "") else {}
    session = Session(ctx, account.email, cookie[0], cookie[1], str(body.get("id", "")))
    ctx.state[key] = session
    ctx.cleanups.append(lambda: _sign_out(session))
    return session


def _sign_out(session: Session) -> None:
    session.request("POST", "/v1/auth/logout")


def signed_in(ctx: Context, index: int) -> Session | None:
    """The session of ``--account`` number ``index`` (None: not given, or its login failed)."""
    if index >= len(ctx.options.accounts):
        return None
    return sign_in(ctx, ctx.options.accounts[index], f"limits.session.{index}")
