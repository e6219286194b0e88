"""Input validation (C7) from outside: hostile payloads get a clear 4xx, never a 5xx or an echo.

A small corpus (``corpus``): deep JSON nesting, a NUL byte, invalid UTF-8, a number too large to
parse, wrong types, an unknown field, a body over the documented cap, a wrong content type. Each
payload carries a random canary string; the answer must be a 4xx ``application/problem+json``
that does not contain it (an error that repeats its input is how reflected XSS and secret leaks
through error messages start). Sent to the public login route, and with a test account to a
private write (workspace create). Anything a payload creates by mistake is removed at the end.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from app.scorecard.context import Context
from app.scorecard.model import Evidence
from app.scorecard.problems import is_problem, json_object
from app.scorecard.registry import Verdict, check
from app.scorecard.session import origin_of, signed_in, why_not_signed_in

LOGIN_PATH = "/v1/auth/login"
WRITE_PATH = "/v1/workspaces"
DOCUMENTED_BODY_CAP = 1_048_576  # MAX_REQUEST_BODY_BYTES default (docs/configuration.md)
NESTING = 10_000
RATE_LIMITED = "rate-limited (429): not judged"
FIX = (
    "the route's pydantic schema (extra='forbid', constraints), app/core/errors.py, "
    "app/core/json_limits.py, app/core/body_limit.py"
)


@dataclass(frozen=True)
class Payload:
    name: str
    body: bytes
    content_type: str = "application/json"


def corpus(canary: str, valid: dict[str, object]) -> list[Payload]:
    """The hostile bodies for a route whose valid body is ``valid`` (its first field gets the
    hostile value; the canary rides along wherever the payload allows text)."""
    field = next(iter(valid))

    def with_value(raw: str | bytes) -> bytes:
        value = raw.encode() if isinstance(raw, str) else raw
        rest = ", ".join(
            f"{json.dumps(k)}: {json.dumps(v)}" for k, v in valid.items() if k != field
        )
        tail = f", {rest}".encode() if rest else b""
        return b"{" + json.dumps(field).encode() + b": " + value + tail + b"}"

    return [
        Payload("deep nesting", with_value("[" * NESTING + json.dumps(canary) + "]" * NESTING)),
        Payload("NUL byte", with_value(json.dumps(f"{canary}\u0000x"))),
        Payload("invalid UTF-8", with_value(b'"' + canary.encode() + b'\xff\xfe"')),
        Payload("huge number", with_value("9" * 5000)),
        Payload("wrong type", with_value(json.dumps({"canary": canary}))),
        # The canary is the value, not the name: naming the unknown field back is fine.
        Payload("unknown field", json.dumps({**valid, "x_unknown": canary}).encode()),
        Payload(
            "body over the documented cap",
            json.dumps({**valid, "padding": canary + "x" * DOCUMENTED_BODY_CAP}).encode(),
        ),
        Payload("wrong content type", json.dumps({**valid, "note": canary}).encode(), "text/plain"),
    ]


def judge(response: httpx.Response, canary: str) -> str:
    """'' for a clean refusal; else what is wrong with the answer."""
    faults = []
    if response.status_code >= 500:
        faults.append("a server error")
    elif not 400 <= response.status_code < 500:
        faults.append("accepted")
    elif not is_problem(response):
        faults.append(f"content-type {response.headers.get('content-type', '(none)')}")
    if canary in response.text:
        faults.append("echoes the payload")
    return ", ".join(faults)


def _run(
    label: str,
    send: Callable[[Payload], httpx.Response],
    valid: dict[str, object],
    on_created: Callable[[httpx.Response], None] = lambda _response: None,
) -> Verdict:
    canary = "lpcanary" + secrets.token_hex(6)
    evidence: list[Evidence] = []
    failed = False
    for payload in corpus(canary, valid):
        try:
            response = send(payload)
        except httpx.TransportError as exc:  # a dropped connection is a crash seen from outside
            failed = True
            evidence.append(
                Evidence(f"{label} ({payload.name})", None, f"no answer: {type(exc).__name__}")
            )
            continue
        if response.status_code in (200, 201):
            on_created(response)
        fault = judge(response, canary)
        failed = failed or bool(fault)
        # A 429 is a clean refusal, but by the rate limiter: the validator was never reached.
        clean = RATE_LIMITED if response.status_code == 429 else "clean 4xx"
        evidence.append(Evidence(f"{label} ({payload.name})", response.status_code, fault or clean))
    if failed:
        return Verdict.failed(*evidence)
    if all(item.detail == RATE_LIMITED for item in evidence):
        return Verdict.not_checked("every payload was rate-limited (429)", *evidence)
    return Verdict.passed(*evidence)


@check(
    "input_validation",
    "input_validation.public_route",
    "hostile payloads to the login route get a clean 4xx problem+json, no 5xx, no echo",
    fix=FIX,
)
def public_route(ctx: Context) -> Verdict:
    url = ctx.url(LOGIN_PATH)
    origin = origin_of(ctx.options.base_url)
    valid: dict[str, object] = {
        "email": f"launchproof-check-{secrets.token_hex(4)}@example.com",
        "password": secrets.token_urlsafe(16),  # a random one: no account has it
    }

    def send(payload: Payload) -> httpx.Response:
        headers = {"Origin": origin, "Content-Type": payload.content_type}
        return ctx.probe.request("POST", url, content=payload.body, headers=headers)

    return _run(f"POST {url}", send, valid)


@check(
    "input_validation",
    "input_validation.private_write",
    "hostile payloads to a signed-in write (workspace create) get a clean 4xx, no 5xx, no echo",
    fix=FIX,
)
def private_write(ctx: Context) -> Verdict:
    session = signed_in(ctx, 0)
    if session is None:
        return Verdict.not_checked(why_not_signed_in(ctx, 0))

    def send(payload: Payload) -> httpx.Response:
        headers = {"Content-Type": payload.content_type}
        return session.request("POST", WRITE_PATH, content=payload.body, headers=headers)

    def remove(response: httpx.Response) -> None:
        created = json_object(response)
        if created.get("id"):
            session.remove_later(f"{WRITE_PATH}/{created['id']}")

    label = session.describe("POST", WRITE_PATH)
    return _run(label, send, {"name": "launchproof check"}, remove)
