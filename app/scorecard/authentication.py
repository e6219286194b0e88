"""Authentication (C1) from outside: every private route refuses a bad credential with one 401.

The routes come from the route inventory (``routes.py``), path parameters filled with random,
well-formed ids. Every private route is called once with no credential; a tampered session
cookie and a malformed bearer key are tried on one route per (method, resource) group, which
covers every router and guard while keeping the run near a hundred requests. With a test
account, credentials that really existed are tried after they died: an API key revoked by its
owner and a session cookie after sign-out. All refusals must equal one reference 401 apart from
``problems.PER_REQUEST_FIELDS``: a prober must not learn which credential was nearly right.
"""

from __future__ import annotations

import secrets

import httpx

from app.scorecard.context import Context
from app.scorecard.model import Evidence
from app.scorecard.problems import PER_REQUEST_FIELDS, same_refusal
from app.scorecard.registry import Verdict, check
from app.scorecard.routes import Route, private_routes
from app.scorecard.session import (
    COOKIE_LABEL,
    Session,
    fresh_session,
    origin_of,
    signed_in,
    why_not_signed_in,
)

REFERENCE_PATH = "/v1/me"
DEFAULT_COOKIE = "__Host-lp_session"  # this release's name, used when no account shows the real one
SESSION_ENDING = frozenset({"/v1/auth/logout", "/v1/auth/logout-all"})
SAFE = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_LISTED = 8  # failures listed in full; the rest are counted
FIX = "app/identity/dependencies.py get_principal, app/api.py PRIVATE_ROUTERS; docs/security.md"


def reference_401(ctx: Context) -> httpx.Response:
    """The refusal every other one must equal: ``GET /v1/me`` with no credential (cached)."""
    key = "authentication.reference_401"
    if key not in ctx.state:
        ctx.state[key] = ctx.probe.request(
            "GET", ctx.url(REFERENCE_PATH), headers={"Origin": origin_of(ctx.options.base_url)}
        )
    response: httpx.Response = ctx.state[key]
    return response


def _tamper(token: str) -> str:
    middle = len(token) // 2
    return token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]


def _differs(response: httpx.Response, reference: httpx.Response) -> str:
    if response.status_code == reference.status_code == 401:
        if response.headers.get("www-authenticate") != reference.headers.get("www-authenticate"):
            return "WWW-Authenticate differs"
        if "set-cookie" in response.headers:
            return "sets a cookie"
    return same_refusal(response, reference)


def _send(ctx: Context, route: Route, headers: dict[str, str]) -> httpx.Response:
    kwargs: dict[str, object] = {} if route.method in SAFE else {"json": {}}
    all_headers = {"Origin": origin_of(ctx.options.base_url), **headers}
    return ctx.probe.request(
        route.method, ctx.url(route.url(route.random_ids())), headers=all_headers, **kwargs
    )


def _group(route: Route) -> tuple[str, str, bool]:
    """(method, top resource, takes ids): ``POST /v1/bots/{bot_id}/conversations`` ->
    (POST, bots, True). Routes of one router share one guard, so one of each group stands in."""
    parts = [part for part in route.path.split("/") if part and part != "v1"]
    return route.method, parts[0] if parts else "", bool(route.params)


def _sample(routes: list[Route]) -> list[Route]:
    seen: set[tuple[str, str, bool]] = set()
    sample: list[Route] = []
    for route in routes:
        if _group(route) not in seen:
            seen.add(_group(route))
            sample.append(route)
    return sample


def _credentials(ctx: Context) -> list[tuple[str, dict[str, str]]]:
    session = signed_in(ctx, 0) if ctx.options.accounts else None
    if session is not None:
        cookie = (f"tampered {COOKIE_LABEL}", session.cookie_name, _tamper(session.cookie_value))
    else:
        cookie = ("forged session cookie", DEFAULT_COOKIE, secrets.token_urlsafe(32))
    label, name, value = cookie
    return [
        (label, {"Cookie": f"{name}={value}"}),
        ("malformed bearer key", {"Authorization": f"Bearer {secrets.token_urlsafe(24)}!"}),
    ]


@check(
    "authentication",
    "authentication.private_routes",
    "every private route refuses a missing, tampered or malformed credential with one 401",
    fix=FIX,
)
def private_routes_refuse(ctx: Context) -> Verdict:
    routes = sorted(
        private_routes(ctx.options.openapi_path), key=lambda route: route.path in SESSION_ENDING
    )
    if not routes:
        return Verdict.not_checked("the route inventory lists no private route")
    reference = reference_401(ctx)
    first = Evidence(f"GET {ctx.url(REFERENCE_PATH)} (no credential)", reference.status_code)
    if reference.status_code != 401 or same_refusal(reference, reference):
        return Verdict.failed(
            Evidence(first.request, reference.status_code, "expected a 401 problem+json")
        )
    cases: list[tuple[Route, str, dict[str, str]]] = [(r, "no credential", {}) for r in routes]
    sample = _sample(routes)
    for label, headers in _credentials(ctx):
        cases += [(route, label, headers) for route in sample]
    failures: list[Evidence] = []
    for route, label, headers in cases:
        response = _send(ctx, route, headers)
        problem = _differs(response, reference)
        if problem:
            failures.append(Evidence(f"{route.label} ({label})", response.status_code, problem))
    summary = Evidence(
        f"{len(routes)} private routes with no credential, {len(sample)} sampled with each bad "
        f"credential: {len(cases) + 1} requests",
        None,
        f"{len(failures)} answered differently from the reference 401 (bodies compared apart "
        f"from {', '.join(sorted(PER_REQUEST_FIELDS))})",
    )
    if failures:
        more = len(failures) - MAX_LISTED
        tail = [Evidence(f"... and {more} more", None)] if more > 0 else []
        return Verdict.failed(summary, *failures[:MAX_LISTED], *tail)
    return Verdict.passed(first, summary)


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@check(
    "authentication",
    "authentication.revoked_api_key",
    "an API key stops working the moment its owner revokes it (the same 401)",
    fix="app/identity/credentials.py principal_from_api_key, app/api_keys/service.py",
)
def revoked_api_key(ctx: Context) -> Verdict:
    session = signed_in(ctx, 0)
    if session is None:
        return Verdict.not_checked(why_not_signed_in(ctx, 0))
    key = session.api_key()
    if key is None:
        return Verdict.not_checked("account 1 could not create a workspace API key")
    url = ctx.url("/v1/workspaces")
    live = ctx.probe.request("GET", url, headers=_bearer(key.secret))
    evidence = [Evidence(f"GET {url} (new API key <key>)", live.status_code)]
    if live.status_code != 200:
        return Verdict.not_checked("the new API key was refused before it was revoked", *evidence)
    revoked = session.request("DELETE", f"{key.collection}/{key.id}")
    evidence.append(
        Evidence(session.describe("DELETE", f"{key.collection}/{key.id}"), revoked.status_code)
    )
    if revoked.status_code not in (200, 204):
        return Verdict.not_checked("revoking the API key failed", *evidence)
    after = ctx.probe.request("GET", url, headers=_bearer(key.secret))
    problem = _differs(after, reference_401(ctx))
    evidence.append(Evidence(f"GET {url} (revoked API key <key>)", after.status_code, problem))
    return Verdict.failed(*evidence) if problem else Verdict.passed(*evidence)


def _signed_out_probe(session: Session) -> list[Evidence]:
    me = session.request("GET", REFERENCE_PATH)
    evidence = [Evidence(session.describe("GET", REFERENCE_PATH, "fresh sign-in"), me.status_code)]
    out = session.request("POST", "/v1/auth/logout")
    session.signed_out = True
    evidence.append(Evidence(session.describe("POST", "/v1/auth/logout"), out.status_code))
    return evidence


@check(
    "authentication",
    "authentication.signed_out_cookie",
    "a session cookie is dead after sign-out (the same 401)",
    fix="app/identity/credentials.py principal_from_session, app/auth/service.py logout",
)
def signed_out_cookie(ctx: Context) -> Verdict:
    session = fresh_session(ctx, 0)
    if isinstance(session, str):
        return Verdict.not_checked(session)
    evidence = _signed_out_probe(session)
    if [item.status for item in evidence] not in ([200, 204], [200, 200]):
        return Verdict.not_checked("the fresh session did not work or sign out", *evidence)
    after = session.request("GET", REFERENCE_PATH)
    problem = _differs(after, reference_401(ctx))
    evidence.append(
        Evidence(
            session.describe("GET", REFERENCE_PATH, "after sign-out"), after.status_code, problem
        )
    )
    return Verdict.failed(*evidence) if problem else Verdict.passed(*evidence)
