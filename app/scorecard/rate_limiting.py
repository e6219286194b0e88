"""Rate limiting (C6): bounded bursts against each documented budget, and the budget restores.

Each burst sends at most ``allowed + 1 + margin`` requests (the budget from ``budgets.py``) and
stops at the first 429, which must be ``application/problem+json`` with a ``Retry-After`` no
longer than the budget's longest window. What is sent is chosen so a burst creates nothing that
outlives the run and costs the deployment little: wrong passwords for an unregistered address
at ``example.com`` (RFC 2606; ``example.invalid`` is refused by e-mail validation before any
per-account budget is charged), sign-ups refused by the password policy (the password is the
address), reset requests for that unregistered address, unsigned webhook calls (refused after
the budget is charged), chat sends and uploads of a few bytes in a throwaway workspace, and as
staff a suspend of a random user id (404). ``rate_limit.restores`` waits once, for all of them,
when the Retry-After values fit the run's time budget, and sends one request per budget.
"""

from __future__ import annotations

import email.utils
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from itertools import groupby

import httpx

from app.scorecard import scratch
from app.scorecard.budgets import Limit, documented
from app.scorecard.context import Account, Context
from app.scorecard.model import Evidence
from app.scorecard.problems import code_of
from app.scorecard.registry import Verdict, check
from app.scorecard.session import Session, fresh_session, signed_in

FIX = "docs/rate-limits.md (RATE_LIMIT_* settings, app/core/rate_limit.py)"
PENDING = "rate_limiting.pending"
# Never wait longer than this share of the time left for the restore (later checks need time).
WAIT_SHARE = 0.5

Send = Callable[[], httpx.Response]


@dataclass
class Limited:
    """A budget that answered 429: when, how long it asked to wait, and how to ask again."""

    label: str
    at: float
    retry_after: int
    send: Send
    what: str


def throwaway_address(label: str) -> str:
    return f"lpcheck-{label}-{secrets.token_hex(5)}@example.com"


def statuses_line(codes: list[int]) -> str:
    """``401x5, 429``: the statuses in order, runs collapsed."""
    runs = [(code, len(list(group))) for code, group in groupby(codes)]
    return ", ".join(f"{code}x{count}" if count > 1 else str(code) for code, count in runs)


def retry_after_seconds(value: str | None) -> int | None:
    """Retry-After as seconds (delta-seconds or an HTTP date), None when absent or malformed."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return int(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0, int(when.timestamp() - time.time()) + 1)


def is_problem(response: httpx.Response) -> bool:
    if not response.headers.get("content-type", "").startswith("application/problem+json"):
        return False
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("status", response.status_code) == 429


def strictest(ctx: Context, *names: str) -> Limit:
    limits = documented(ctx.options.budgets)
    return min((limits[name] for name in names), key=lambda limit: limit.allowed)


def burst(
    ctx: Context, label: str, limit: Limit, send: Send, what: str, *, already: int = 0
) -> Verdict:
    """Send until the first 429 (at most ``allowed + 1 + margin`` in all, ``already`` of them
    sent before) and judge the refusal."""
    cap = limit.allowed + 1 + limit.margin() - already
    codes: list[int] = []
    refused: httpx.Response | None = None
    for _ in range(cap):
        response = send()
        codes.append(response.status_code)
        if response.status_code == 429:
            refused = response
            break
    budget = f"budget {limit.name}={limit.notation}: {limit.allowed} allowed"
    sent = Evidence(f"{what} x{len(codes)}", codes[-1], f"{statuses_line(codes)}; {budget}")
    if refused is None:
        return Verdict.failed(sent, Evidence(what, None, f"no 429 within {cap} requests"))
    retry_after = retry_after_seconds(refused.headers.get("retry-after"))
    header = f"Retry-After: {refused.headers.get('retry-after', '<missing>')}"
    sane = retry_after is not None and 1 <= retry_after <= limit.longest_seconds + 1
    problems = []
    if not sane:
        problems.append(f"{header} (want 1..{limit.longest_seconds + 1} s)")
    if not is_problem(refused):
        kind = refused.headers.get("content-type", "<none>")
        problems.append(f"429 body is {kind}, not application/problem+json")
    if problems:
        return Verdict.failed(sent, Evidence(what, 429, "; ".join(problems)))
    assert retry_after is not None
    ctx.state.setdefault(PENDING, []).append(
        Limited(label, time.monotonic(), retry_after, send, what)
    )
    return Verdict.passed(
        sent, Evidence(what, 429, f"{header}; application/problem+json at request {len(codes)}")
    )


def _post_json(ctx: Context, path: str, body: dict[str, str]) -> Send:
    origin = {"Origin": ctx.options.base_url.rstrip("/")}
    return lambda: ctx.probe.request("POST", ctx.url(path), json=body, headers=origin)


@check("rate_limiting", "rate_limit.login", "login is limited per account", fix=FIX)
def login(ctx: Context) -> Verdict:
    # Sign the accounts in first: the login burst must not cost the later checks their sessions.
    for index in range(len(ctx.options.accounts)):
        signed_in(ctx, index)
    address = throwaway_address("login")
    send = _post_json(ctx, "/v1/auth/login", {"email": address, "password": "lpcheck-wrong"})
    what = f"POST /v1/auth/login (unregistered {address}, wrong password)"
    return burst(ctx, "login", strictest(ctx, "login_account", "login_ip"), send, what)


@check("rate_limiting", "rate_limit.signup", "sign-up is limited per client IP", fix=FIX)
def signup(ctx: Context) -> Verdict:
    address = throwaway_address("signup")
    send = _post_json(ctx, "/v1/auth/signup", {"email": address, "password": address})
    what = f"POST /v1/auth/signup ({address}, password = the address: refused by policy)"
    return burst(ctx, "signup", strictest(ctx, "signup_ip"), send, what)


@check("rate_limiting", "rate_limit.password_reset", "password reset is limited", fix=FIX)
def password_reset(ctx: Context) -> Verdict:
    address = throwaway_address("reset")
    send = _post_json(ctx, "/v1/auth/password-reset", {"email": address})
    what = f"POST /v1/auth/password-reset (unregistered {address})"
    names = ("password_reset_account", "password_reset_ip")
    return burst(ctx, "password_reset", strictest(ctx, *names), send, what)


def burst_account(ctx: Context) -> Session | None:
    """The last account bursts, so the files and latency checks (first account) keep budget."""
    return signed_in(ctx, len(ctx.options.accounts) - 1) if ctx.options.accounts else None


@check("rate_limiting", "rate_limit.chat_send", "chat sends are limited per user", fix=FIX)
def chat_send(ctx: Context) -> Verdict:
    session = burst_account(ctx)
    if session is None:
        return Verdict.not_checked("needs --account (a throwaway account that can sign in)")
    conversation_id = scratch.conversation(session)
    if conversation_id is None:
        return Verdict.not_checked("could not create a throwaway workspace, bot and conversation")
    path = f"/v1/conversations/{conversation_id}/messages"
    marker = scratch.canary(ctx, "chat")  # chat text: the logging check looks for it
    body = {"content": f"launchproof check {marker}: a rate limit probe, one word is enough"}

    def send() -> httpx.Response:
        return session.request("POST", path, json=body, headers=scratch.JSON)

    what = f"POST {path} (a throwaway conversation; the answer may succeed or fail)"
    return burst(ctx, "chat_send", strictest(ctx, "chat_send"), send, what)


@check("rate_limiting", "rate_limit.upload", "uploads are limited per user", fix=FIX)
def upload(ctx: Context) -> Verdict:
    session = burst_account(ctx)
    if session is None:
        return Verdict.not_checked("needs --account (a throwaway account that can sign in)")
    if scratch.workspace(session) is None:
        return Verdict.not_checked("could not create a throwaway workspace")

    def send() -> httpx.Response:
        return scratch.upload(session, "lpcheck.txt", b"launchproof check: rate limit probe\n")

    what = "POST /v1/workspaces/<throwaway>/files (36 bytes of text; each removed afterwards)"
    return burst(ctx, "upload", strictest(ctx, "upload"), send, what)


@check(
    "rate_limiting",
    "rate_limit.webhook",
    "inbound webhooks are limited per source, refused signatures included",
    fix=FIX,
)
def webhook(ctx: Context) -> Verdict:
    source = ctx.options.webhook_source
    if not source:
        return Verdict.not_checked(
            "needs --webhook-source NAME (a source configured in WEBHOOK_INBOUND_SECRETS)"
        )
    path = f"/v1/webhooks/inbound/{source}"
    first = ctx.probe.request("POST", ctx.url(path), json={})
    if first.status_code == 404:
        return Verdict.not_checked(
            f"source {source!r} is not configured there", Evidence(f"POST {path}", 404)
        )

    def send() -> httpx.Response:
        return ctx.probe.request("POST", ctx.url(path), json={})

    what = f"POST {path} (no signature headers: each refusal costs one request of the budget)"
    # The first unsigned call already counted against the budget.
    verdict = burst(ctx, "webhook", strictest(ctx, "webhook"), send, what, already=1)
    verdict.evidence.insert(0, Evidence(f"POST {path} (unsigned, first)", first.status_code))
    return verdict


@check("rate_limiting", "rate_limit.admin", "admin routes are limited per staff user", fix=FIX)
def admin(ctx: Context) -> Verdict:
    staff = ctx.options.staff_account
    if staff is None:
        return _admin_refuses_non_staff(ctx)
    session = _staff_session(ctx, staff)
    if isinstance(session, str):
        return Verdict.not_checked(f"--staff-account: {session}")
    path = f"/v1/admin/users/{uuid.uuid4()}/suspend"
    # The admin budget counts staff who got through the staff gate. A staff account that is
    # refused there (no second factor enrolled, no fresh factor and no TOTP secret to step up
    # with: 401/403) never reaches it, and its refusals prove nothing about the limit: not
    # checked, and the evidence says why.
    first = session.request_stepped_up("POST", path)
    if first.status_code in (401, 403):
        code = code_of(first) or str(first.status_code)
        return Verdict.not_checked(
            f"--staff-account cannot reach the admin routes ({first.status_code} {code}): "
            "give a staff account that can (with a second factor enrolled and its TOTP "
            "secret: --staff-account EMAIL:ENVVAR:TOTPVAR)",
            Evidence(f"POST {path} (staff account)", first.status_code, code),
        )

    def send() -> httpx.Response:
        return session.request("POST", path)

    what = f"POST {path} (a random user id: 404, nothing suspended)"
    return burst(ctx, "admin", strictest(ctx, "admin"), send, what, already=1)


def _staff_session(ctx: Context, staff: Account) -> Session | str:
    """The staff account signed in once per run (signed out among the cleanups), or why not:
    session.py's sign-in, on a view of the run whose only account is the staff one."""
    key = "rate_limiting.staff_session"
    if key not in ctx.state:
        options = replace(ctx.options, accounts=(staff,))
        view = Context(options=options, probe=ctx.probe, state=ctx.state, cleanups=ctx.cleanups)
        ctx.state[key] = fresh_session(view, 0)
        if isinstance(ctx.state[key], Session):
            ctx.cleanups.append(ctx.state[key].sign_out)
    value: Session | str = ctx.state[key]
    return value


def _admin_refuses_non_staff(ctx: Context) -> Verdict:
    """Without staff credentials the admin budget cannot be reached; what can be proved is that
    a non-staff account gets a refusal that leaks nothing (no listing, no addresses)."""
    why = "the admin budget needs --staff-account EMAIL:ENVVAR (a throwaway staff account)"
    session = signed_in(ctx, 0)
    if session is None:
        return Verdict.not_checked(why)
    response = session.request("GET", "/v1/admin/users")
    seen = Evidence("GET /v1/admin/users (non-staff account)", response.status_code)
    leaked = "@" in response.text or '"items"' in response.text
    if response.status_code not in (403, 404) or leaked:
        detail = "admin answered a non-staff account" + (" with data" if leaked else "")
        return Verdict.failed(seen, Evidence("GET /v1/admin/users", response.status_code, detail))
    return Verdict.not_checked(why, seen)


@check(
    "rate_limiting",
    "rate_limit.restores",
    "a spent budget restores after Retry-After",
    fix=FIX,
)
def restores(ctx: Context) -> Verdict:
    pending: list[Limited] = ctx.state.get(PENDING, [])
    if not pending:
        return Verdict.not_checked("no budget answered 429 in this run")
    allowance = ctx.probe.budget.remaining_seconds() * WAIT_SHARE
    now = time.monotonic()
    due = [p for p in pending if p.at + p.retry_after - now <= allowance]
    skipped = [
        Evidence(p.what, 429, f"Retry-After {p.retry_after} s: longer than this run can wait")
        for p in pending
        if p not in due
    ]
    if not due:
        return Verdict.not_checked("every Retry-After is longer than the time left", *skipped)
    wait = max(p.at + p.retry_after for p in due) - time.monotonic()
    if wait > 0:
        time.sleep(wait + 0.2)
    evidence = []
    failed = False
    for p in due:
        status = p.send().status_code
        failed |= status == 429
        detail = f"{p.label}: after Retry-After {p.retry_after} s, waited once for all"
        evidence.append(Evidence(p.what + " (once more)", status, detail))
    return (Verdict.failed if failed else Verdict.passed)(*evidence, *skipped)
