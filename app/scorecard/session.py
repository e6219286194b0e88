"""Signed-in sessions for the operator's throwaway accounts, made once per run and shared.

``signed_in(ctx, index)`` signs account ``index`` of ``--account`` in through the public login
route (POST with e-mail and password, the ``Origin`` the CSRF check wants; an account with a
second factor answers 202 and the checker sends the next TOTP code, ``second_factor.py``),
keeps the session cookie it sets and signs it out again among the run's cleanups.
``Session.request`` sends a request as that person through ``ctx.probe``, so it counts against
the budget.

Nothing here ever puts the cookie, the password, the TOTP secret or a code into evidence:
``Session`` hides them from ``repr`` and evidence names the credential as ``<session cookie>``.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import urlsplit

import httpx

from app.scorecard.context import Account, Context
from app.scorecard.problems import code_of, json_object
from app.scorecard.second_factor import next_code

LOGIN_PATH = "/v1/auth/login"
SECOND_FACTOR_PATH = "/v1/auth/login/second-factor"
STEP_UP_PATH = "/v1/auth/step-up"
CHALLENGE_COOKIE = "__Host-lp_login"
LOGOUT_PATH = "/v1/auth/logout"
WORKSPACES_PATH = "/v1/workspaces"
COOKIE_PREFIX = "__Host-"
COOKIE_LABEL = "<session cookie>"


def origin_of(base_url: str) -> str:
    """``scheme://host[:port]`` of the deployment: the Origin a same-site browser sends."""
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{parts.netloc}".lower()


@dataclass(frozen=True)
class SetCookie:
    """One ``Set-Cookie`` header, parsed; ``value`` is hidden from repr."""

    name: str
    value: str = field(repr=False)
    attributes: dict[str, str]  # lower-cased attribute name -> value ("" for flags)

    @classmethod
    def parse(cls, header: str) -> SetCookie | None:
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(header)
        except CookieError:
            return None
        for name, morsel in jar.items():
            attributes = {key: str(value) for key, value in morsel.items() if value}
            # SimpleCookie reads flags as True; keep their presence as "".
            flags = {part.strip().lower() for part in header.split(";")[1:]}
            for flag in ("secure", "httponly"):
                if flag in flags:
                    attributes[flag] = ""
            return cls(name=name, value=morsel.value, attributes=attributes)
        return None


@dataclass(frozen=True)
class ApiKey:
    id: str
    secret: str = field(repr=False)
    collection: str  # the workspace's api-keys path: list here, DELETE collection/id to revoke


@dataclass
class Session:
    """A signed-in account: the cookie, the origin header, and what login answered."""

    ctx: Context
    index: int
    email: str
    user_id: str
    cookie_name: str
    cookie_value: str = field(repr=False)
    origin: str
    set_cookies: list[SetCookie] = field(default_factory=list, repr=False)
    login_body: str = field(default="", repr=False)
    signed_out: bool = False
    totp_secret: str | None = field(default=None, repr=False)

    @property
    def label(self) -> str:
        return f"account {self.index + 1}"

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Origin": self.origin, "Cookie": f"{self.cookie_name}={self.cookie_value}"}
        headers.update(extra or {})
        return headers

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """``method path`` as this person (cookie and same-site Origin), through ``ctx.probe``.

        ``headers=`` adds or overrides headers (an ``Origin`` of another site, say).
        """
        headers = self.headers(kwargs.pop("headers", None))
        return self.ctx.probe.request(method, self.ctx.url(path), headers=headers, **kwargs)

    def request_stepped_up(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """``request``; answered ``401 step_up_required`` (a factor older than the server's
        step-up window), steps up with the next TOTP code and sends it once more."""
        response = self.request(method, path, **kwargs)
        if response.status_code != 401 or code_of(response) != "step_up_required":
            return response
        code = next_code(self.ctx, self.email, self.totp_secret) if self.totp_secret else None
        if code is None or self.request("POST", STEP_UP_PATH, json={"code": code}).is_error:
            return response
        return self.request(method, path, **kwargs)

    def describe(self, method: str, path: str, note: str = "") -> str:
        """An evidence line for a request of this session, with the credential named, not shown."""
        suffix = f", {note}" if note else ""
        return f"{method} {self.ctx.url(path)} ({self.label}, {COOKIE_LABEL}{suffix})"

    def sign_out(self) -> None:
        if self.signed_out:
            return
        self.signed_out = True
        with contextlib.suppress(httpx.HTTPError):
            self.request("POST", LOGOUT_PATH)

    def workspace(self) -> str | None:
        """A throwaway workspace of this account, made once per run and deleted at the end."""
        key = f"session.workspace.{self.index}"
        if key not in self.ctx.state:
            created = self.request("POST", WORKSPACES_PATH, json={"name": "launchproof check"})
            workspace_id = json_object(created).get("id") if created.status_code == 201 else None
            self.ctx.state[key] = str(workspace_id) if workspace_id else None
            if workspace_id:
                self.remove_later(f"{WORKSPACES_PATH}/{workspace_id}")
        value = self.ctx.state[key]
        return str(value) if value else None

    def api_key(self) -> ApiKey | None:
        """A read-only API key of this account's workspace, made once per run (its secret is shown
        once, at creation), revoked at the end unless a check revoked it first."""
        key = f"session.api_key.{self.index}"
        if key not in self.ctx.state:
            self.ctx.state[key] = None
            workspace_id = self.workspace()
            if workspace_id is None:
                return None
            path = f"{WORKSPACES_PATH}/{workspace_id}/api-keys"
            body = {"name": "launchproof check", "scopes": ["workspace:read"], "expires_in_days": 1}
            created = self.request("POST", path, json=body)
            answer = json_object(created) if created.status_code == 201 else {}
            if answer.get("id") and answer.get("key"):
                self.ctx.state[key] = ApiKey(str(answer["id"]), str(answer["key"]), path)
                self.remove_later(f"{path}/{answer['id']}")
        value = self.ctx.state[key]
        return value if isinstance(value, ApiKey) else None

    def remove_later(self, path: str) -> None:
        """DELETE ``path`` as this person among the cleanups (last in, first out)."""

        def remove() -> None:
            with contextlib.suppress(httpx.HTTPError):
                self.request("DELETE", path)

        self.ctx.cleanups.append(remove)


def _sign_in(ctx: Context, index: int) -> Session | str:
    account = ctx.options.accounts[index]
    origin = origin_of(ctx.options.base_url)
    response = ctx.probe.request(
        "POST",
        ctx.url(LOGIN_PATH),
        json={"email": account.email, "password": account.password},
        headers={"Origin": origin},
    )
    # The probe's client would replay the cookie on later requests (a "no credential" probe
    # would then carry one): this module hands the cookie out explicitly, nothing else keeps it.
    ctx.probe.client.cookies.clear()
    if response.status_code == 202:
        answered = _second_factor(ctx, account, origin, response)
        if isinstance(answered, str):
            return f"signing in account {index + 1}: {answered}"
        response = answered
    if response.status_code != 200:
        return f"signing in account {index + 1} answered {response.status_code}"
    cookies = [
        parsed
        for header in response.headers.get_list("set-cookie")
        if (parsed := SetCookie.parse(header)) is not None
    ]
    live = [cookie for cookie in cookies if cookie.value]
    if not live:
        return f"signing in account {index + 1} set no session cookie"
    session_cookie = next((c for c in live if c.name.startswith(COOKIE_PREFIX)), live[0])
    body = json_object(response)
    return Session(
        ctx=ctx,
        index=index,
        email=account.email,
        user_id=str(body.get("id", "")),
        cookie_name=session_cookie.name,
        cookie_value=session_cookie.value,
        origin=origin,
        set_cookies=cookies,
        login_body=response.text,
        totp_secret=account.totp_secret,
    )


def _second_factor(
    ctx: Context, account: Account, origin: str, first: httpx.Response
) -> httpx.Response | str:
    """Step 2 of a two-step login (202 ``second_factor_required``): the next TOTP code with the
    challenge cookie step 1 set, from the same client (the challenge is bound to its
    User-Agent). The answer, or why there is none."""
    if account.totp_secret is None:
        return (
            "it has a second factor (202 second_factor_required): give its TOTP secret, "
            "--account EMAIL:ENVVAR:TOTPVAR"
        )
    challenge = next(
        (
            cookie.value
            for header in first.headers.get_list("set-cookie")
            if (cookie := SetCookie.parse(header)) is not None and cookie.name == CHALLENGE_COOKIE
        ),
        "",
    )
    if not challenge:
        return f"202 without the {CHALLENGE_COOKIE} challenge cookie"
    code = next_code(ctx, account.email, account.totp_secret)
    if code is None:
        return "no time left in the run to wait for an unused TOTP step"
    response = ctx.probe.request(
        "POST",
        ctx.url(SECOND_FACTOR_PATH),
        json={"code": code},
        headers={"Origin": origin, "Cookie": f"{CHALLENGE_COOKIE}={challenge}"},
    )
    ctx.probe.client.cookies.clear()
    return response


def fresh_session(ctx: Context, index: int) -> Session | str:
    """Another, uncached sign-in of account ``index`` (a session a check may end), or why not."""
    if index >= len(ctx.options.accounts):
        return why_not_signed_in(ctx, index)
    return _sign_in(ctx, index)


def signed_in(ctx: Context, index: int) -> Session | None:
    """Account ``index`` signed in (once per run; signed out among the cleanups), or None.

    None when there is no such account or signing in failed; ``why_not_signed_in`` says why.
    """
    if index >= len(ctx.options.accounts):
        return None
    key = f"session.{index}"
    if key not in ctx.state:
        result = _sign_in(ctx, index)
        ctx.state[key] = result
        if isinstance(result, Session):
            ctx.cleanups.append(result.sign_out)
    value = ctx.state[key]
    return value if isinstance(value, Session) else None


def why_not_signed_in(ctx: Context, index: int) -> str:
    """The reason ``signed_in`` gave None, for a NOT CHECKED verdict."""
    if index >= len(ctx.options.accounts):
        needed = index + 1
        plural = "s" if needed > 1 else ""
        return f"needs {needed} test account{plural} (--account EMAIL:ENVVAR[:TOTPVAR])"
    value = ctx.state.get(f"session.{index}")
    return value if isinstance(value, str) else "not signed in"


def sessions(ctx: Context, count: int) -> tuple[list[Session], str]:
    """The first ``count`` accounts signed in, or ([], why) when any of them cannot be."""
    signed: list[Session] = []
    for index in range(count):
        session = signed_in(ctx, index)
        if session is None:
            return [], why_not_signed_in(ctx, index)
        signed.append(session)
    return signed, ""
