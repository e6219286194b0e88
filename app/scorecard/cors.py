"""CORS, cookies and CSRF (C5) from outside: what a foreign web page could make a browser do.

* Look-alike origins (a sibling subdomain, the host as a prefix of another domain, ``null``,
  plain http, the origin with a suffix) get no ``Access-Control-Allow-Origin`` on a simple
  request or a preflight, and no response ever pairs ``*`` with credentials.
* The session cookie login sets is ``__Host-`` prefixed, ``Secure``, ``HttpOnly``,
  ``SameSite=Lax|Strict``, ``Path=/``, without ``Domain``.
* No response body a browser script could read (login, ``/v1/me``) carries a token: the cookie's
  value, or anything ``app.core.secret_scan`` recognises.
* A cookie-authenticated write without the expected ``Origin`` (none, or a foreign one) is
  refused: CORS blocks reading answers, not sending requests, so CSRF needs its own defence.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx

from app.core.secret_scan import find_secret_types
from app.scorecard.context import Context
from app.scorecard.model import Evidence
from app.scorecard.registry import Verdict, check
from app.scorecard.session import COOKIE_PREFIX, Session, origin_of, signed_in, why_not_signed_in

PROBE_PATH = "/v1/me"
WRITE_PATH = "/v1/me"  # PATCH with an empty body: a write that changes nothing when it succeeds
FIX_CORS = "ALLOWED_ORIGINS (exact origins only), app/core/cors.py; docs/security.md"


def lookalike_origins(base_url: str) -> list[str]:
    """Origins a sloppy allowlist (prefix, suffix, substring, scheme-blind) would let through."""
    parts = urlsplit(base_url)
    host, netloc = parts.hostname or "", parts.netloc
    port = f":{parts.port}" if parts.port else ""
    origin = origin_of(base_url)
    origins = [
        f"https://evil.{host}{port}",
        f"https://{host}.evil.test{port}",
        f"https://evil{host}{port}",
        f"{origin}.evil.test",
        "null",
    ]
    if parts.scheme == "https":  # the scheme downgrade: the same host over plain http
        origins.append(f"http://{netloc}")
    return origins


def _grants(response: httpx.Response, origin: str) -> str:
    allowed = response.headers.get("access-control-allow-origin")
    if allowed is None:
        return ""
    credentials = response.headers.get("access-control-allow-credentials", "").lower() == "true"
    if allowed == "*":
        return "Access-Control-Allow-Origin: * with credentials" if credentials else ""
    if allowed.lower() == origin.lower():
        suffix = " (with credentials)" if credentials else ""
        return f"Access-Control-Allow-Origin: {allowed}{suffix}"
    return ""


@check(
    "cors",
    "cors.lookalike_origins",
    "look-alike origins get no CORS grant, on simple requests and preflights",
    fix=FIX_CORS,
)
def lookalike(ctx: Context) -> Verdict:
    url = ctx.url(PROBE_PATH)
    evidence: list[Evidence] = []
    failed = False
    for origin in lookalike_origins(ctx.options.base_url):
        simple = ctx.probe.request("GET", url, headers={"Origin": origin})
        preflight = ctx.probe.request(
            "OPTIONS",
            url,
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "PATCH",
                "Access-Control-Request-Headers": "content-type",
            },
        )
        for kind, response in (("GET", simple), ("OPTIONS preflight", preflight)):
            grant = _grants(response, origin)
            failed = failed or bool(grant)
            detail = grant or "no grant"
            evidence.append(
                Evidence(f"{kind} {url} Origin: {origin}", response.status_code, detail)
            )
    return Verdict.failed(*evidence) if failed else Verdict.passed(*evidence)


@check(
    "cors",
    "cors.no_wildcard_with_credentials",
    "the deployment's own origin is granted exactly, never with a wildcard and credentials",
    fix=FIX_CORS,
)
def no_wildcard(ctx: Context) -> Verdict:
    url, origin = ctx.url(PROBE_PATH), origin_of(ctx.options.base_url)
    answers = [
        ("GET", ctx.probe.request("GET", url, headers={"Origin": origin})),
        (
            "OPTIONS preflight",
            ctx.probe.request(
                "OPTIONS",
                url,
                headers={"Origin": origin, "Access-Control-Request-Method": "PATCH"},
            ),
        ),
    ]
    evidence: list[Evidence] = []
    failed = False
    for kind, response in answers:
        allowed = response.headers.get("access-control-allow-origin", "(none)")
        credentials = response.headers.get("access-control-allow-credentials", "").lower()
        bad = allowed == "*" and credentials == "true"
        failed = failed or bad
        detail = (
            f"Access-Control-Allow-Origin: {allowed}, Allow-Credentials: {credentials or '(none)'}"
        )
        evidence.append(Evidence(f"{kind} {url} Origin: {origin}", response.status_code, detail))
    return Verdict.failed(*evidence) if failed else Verdict.passed(*evidence)


def cookie_faults(session: Session) -> list[str]:
    cookie = next(
        (c for c in session.set_cookies if c.name == session.cookie_name and c.value), None
    )
    if cookie is None:
        return ["no session cookie in the login answer"]
    attributes = cookie.attributes
    faults = []
    if not cookie.name.startswith(COOKIE_PREFIX):
        faults.append(f"name {cookie.name!r} lacks the {COOKIE_PREFIX} prefix")
    for flag in ("secure", "httponly"):
        if flag not in attributes:
            faults.append(f"no {flag.capitalize()}")
    if attributes.get("samesite", "").lower() not in ("lax", "strict"):
        faults.append(f"SameSite={attributes.get('samesite') or '(none)'}")
    if attributes.get("path") != "/":
        faults.append(f"Path={attributes.get('path') or '(none)'}")
    if attributes.get("domain"):
        faults.append("a Domain attribute")
    return faults


@check(
    "cors",
    "cors.session_cookie_flags",
    "the session cookie is __Host- prefixed, Secure, HttpOnly, SameSite=Lax/Strict, Path=/",
    fix="app/identity/session_cookie.py, SESSION_COOKIE_SECURE; docs/security.md",
)
def session_cookie_flags(ctx: Context) -> Verdict:
    session = signed_in(ctx, 0)
    if session is None:
        return Verdict.not_checked(why_not_signed_in(ctx, 0))
    faults = cookie_faults(session)
    cookie = next((c for c in session.set_cookies if c.name == session.cookie_name), None)
    shown = "; ".join(
        f"{key}={value}" if value else key
        for key, value in sorted((cookie.attributes if cookie else {}).items())
    )
    line = Evidence(
        session.describe("POST", "/v1/auth/login", "Set-Cookie"),
        200,
        f"{session.cookie_name}=<value>; {shown}" + (f": {', '.join(faults)}" if faults else ""),
    )
    return Verdict.failed(line) if faults else Verdict.passed(line)


def token_faults(session: Session, text: str, password: str) -> list[str]:
    faults = [f"looks like: {kind}" for kind in find_secret_types(text)]
    if session.cookie_value and session.cookie_value in text:
        faults.append("contains the session cookie's value")
    if password and password in text:
        faults.append("contains the password")
    return faults


@check(
    "cors",
    "cors.no_token_in_body",
    "no token or secret in a response body a script could read (login, /v1/me)",
    fix="response schemas (app/users/schemas.py UserRead); tokens live only in HttpOnly cookies",
)
def no_token_in_body(ctx: Context) -> Verdict:
    session = signed_in(ctx, 0)
    if session is None:
        return Verdict.not_checked(why_not_signed_in(ctx, 0))
    me = session.request("GET", PROBE_PATH)
    bodies = [
        (session.describe("POST", "/v1/auth/login"), 200, session.login_body),
        (session.describe("GET", PROBE_PATH), me.status_code, me.text),
    ]
    evidence = []
    failed = False
    for request, status, text in bodies:
        faults = token_faults(session, text, ctx.options.accounts[0].password)
        failed = failed or bool(faults)
        evidence.append(Evidence(request, status, ", ".join(faults) or "no token in the body"))
    return Verdict.failed(*evidence) if failed else Verdict.passed(*evidence)


@check(
    "cors",
    "cors.csrf",
    "a cookie-authenticated write without the expected Origin is refused (CSRF)",
    fix="app/identity/csrf.py enforce_csrf, ALLOWED_ORIGINS",
)
def csrf(ctx: Context) -> Verdict:
    session = signed_in(ctx, 0)
    if session is None:
        return Verdict.not_checked(why_not_signed_in(ctx, 0))
    foreign = lookalike_origins(ctx.options.base_url)[0]
    cookie = {"Cookie": f"{session.cookie_name}={session.cookie_value}"}
    attempts = [
        ("no Origin", cookie),
        (f"Origin: {foreign}", {**cookie, "Origin": foreign}),
    ]
    evidence = []
    failed = False
    for note, headers in attempts:
        response = ctx.probe.request("PATCH", ctx.url(WRITE_PATH), headers=headers, json={})
        refused = response.status_code in (401, 403)
        failed = failed or not refused
        evidence.append(
            Evidence(
                session.describe("PATCH", WRITE_PATH, note),
                response.status_code,
                "refused" if refused else "accepted: a foreign page could make this write",
            )
        )
    return Verdict.failed(*evidence) if failed else Verdict.passed(*evidence)
