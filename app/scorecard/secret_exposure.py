"""Secrets handling (C4), the outside view: what a client can read must hold no secret.

* Error answers (404, 405, 400/422, 401) carry no stack trace, no exception class name, no
  source path and nothing ``app.core.secret_scan`` recognises as a credential.
* The OpenAPI document, when served, has no secret-looking examples.
* An API key's secret is shown once, in the answer that creates it; listing the keys never shows
  it again. (The repository, history, wheel and image are ``--repo``'s side: the deployment row.)
"""

from __future__ import annotations

import re
import secrets

import httpx

from app.core.secret_scan import find_secret_types
from app.scorecard.context import Context
from app.scorecard.model import Evidence
from app.scorecard.registry import Verdict, check
from app.scorecard.session import origin_of, signed_in, why_not_signed_in

# What a leaked stack trace or internal error looks like in a body.
INTERNALS = (
    (
        "a stack trace",
        re.compile(r"Traceback \(most recent call last\)|\bat [\w.$]+\([\w.]+:\d+\)"),
    ),
    ("a source path", re.compile(r'File "[^"]+", line \d+|/site-packages/|\.py:\d+')),
    ("an exception class name", re.compile(r"\b[A-Z][A-Za-z0-9]*(?:Error|Exception)\b")),
    (
        "a driver message",
        re.compile(r"\b(?:psycopg|asyncpg|sqlalchemy|SQLSTATE|redis\.exceptions)", re.I),
    ),
)
OPENAPI_PATH = "/openapi.json"


def body_faults(text: str) -> list[str]:
    faults = [label for label, pattern in INTERNALS if pattern.search(text)]
    faults += [f"looks like: {kind}" for kind in find_secret_types(text)]
    return faults


def _error_requests(ctx: Context) -> list[tuple[str, str, dict[str, object], int]]:
    """(method, path, request kwargs, the error it should provoke)."""
    origin = {"Origin": origin_of(ctx.options.base_url)}
    return [
        ("GET", f"/v1/launchproof-check-{secrets.token_hex(4)}", {}, 404),
        ("PUT", "/healthz", {}, 405),
        ("POST", "/v1/auth/login", {"headers": origin, "json": {"email": 1}}, 422),
        (
            "POST",
            "/v1/auth/login",
            {"headers": {**origin, "Content-Type": "application/json"}, "content": b"{"},
            400,
        ),
        ("GET", "/v1/me", {}, 401),
    ]


@check(
    "secrets",
    "secrets.error_responses",
    "error answers carry no stack trace, exception name, source path or credential",
    fix="app/core/errors.py (problem+json handlers), DEBUG=false; docs/security.md",
)
def error_responses(ctx: Context) -> Verdict:
    evidence: list[Evidence] = []
    failed = False
    for method, path, kwargs, expected in _error_requests(ctx):
        response = ctx.probe.request(method, ctx.url(path), **kwargs)
        faults = body_faults(response.text)
        if response.status_code >= 500:
            faults.append("a server error")
        failed = failed or bool(faults)
        note = ", ".join(faults) or f"clean (expected {expected})"
        evidence.append(Evidence(f"{method} {ctx.url(path)}", response.status_code, note))
    return Verdict.failed(*evidence) if failed else Verdict.passed(*evidence)


@check(
    "secrets",
    "secrets.openapi_examples",
    "the OpenAPI document, if served, has no secret-looking examples",
    fix="examples in the schemas (json_schema_extra), app/core/openapi.py; DOCS_ENABLED=false",
)
def openapi_examples(ctx: Context) -> Verdict:
    url = ctx.url(OPENAPI_PATH)
    response = ctx.probe.request("GET", url)
    if response.status_code != 200:
        return Verdict.passed(Evidence(f"GET {url}", response.status_code, "not served"))
    kinds = find_secret_types(response.text)
    detail = ", ".join(f"looks like: {kind}" for kind in kinds) or "served, no secret-looking value"
    line = Evidence(f"GET {url}", response.status_code, detail)
    return Verdict.failed(line) if kinds else Verdict.passed(line)


def _shows(response: httpx.Response, secret: str) -> bool:
    return secret in response.text


@check(
    "secrets",
    "secrets.api_key_shown_once",
    "an API key's secret is shown once, at creation, never in a listing",
    fix="app/api_keys/schemas.py (ApiKeyRead has no key field), app/api_keys/service.py",
)
def api_key_shown_once(ctx: Context) -> Verdict:
    session = signed_in(ctx, 0)
    if session is None:
        return Verdict.not_checked(why_not_signed_in(ctx, 0))
    key = session.api_key()
    if key is None:
        return Verdict.not_checked("account 1 could not create a workspace API key")
    created = Evidence(session.describe("POST", key.collection), 201, "the secret shown once")
    listing = session.request("GET", key.collection)
    if listing.status_code != 200:
        return Verdict.not_checked(
            "listing the API keys failed",
            created,
            Evidence(session.describe("GET", key.collection), listing.status_code),
        )
    leaked = _shows(listing, key.secret)
    line = Evidence(
        session.describe("GET", key.collection),
        listing.status_code,
        "the listing shows the full secret" if leaked else "the listing shows no secret",
    )
    return Verdict.failed(created, line) if leaked else Verdict.passed(created, line)
