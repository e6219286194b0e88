"""Authorization (C2) from outside: account B swaps account A's ids into every route and verb.

Account A (the first ``--account``) makes a throwaway workspace with a bot, a conversation, an
uploaded text file and an API key (``objects.py``); account B (the second) calls every private
route of the inventory that takes an id, with A's ids in the path (alone and, where a route
takes two, mixed with B's own workspace), then the same route with random ids. A foreign id must
be answered exactly like one that does not exist (404, or the route's own 403 when it is closed
to B whatever the id), so B learns neither the data nor that it exists. Ids inside bodies (a
message's ``file_ids``) get the same test. Reads go first and deletes last, so a broken route
that deletes A's data cannot make the routes after it look safe. Everything is removed at the end.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from app.scorecard.context import Context
from app.scorecard.model import Evidence
from app.scorecard.objects import Owned, owned_objects
from app.scorecard.problems import same_refusal
from app.scorecard.registry import Verdict, check
from app.scorecard.routes import Route, private_routes
from app.scorecard.session import Session, sessions

FIX = "the service's load_* / require_* helpers and repositories (docs/authorization.md)"
MAX_LISTED = 8
WEBHOOK_PARAMS = frozenset({"endpoint_id", "delivery_id"})
ORDER = {"GET": 0, "POST": 1, "PUT": 1, "PATCH": 1, "DELETE": 2}
LAST = frozenset({"/v1/workspaces/{workspace_id}", "/v1/me/sessions/{session_id}"})
MAX_WAIT_SECONDS = 6.0  # a short Retry-After is waited out once; a longer one leaves it unjudged


def _patient(b: Session, method: str, path: str, **payload: Any) -> httpx.Response:
    """A request a rate limit may delay but must not decide: a 429 says nothing about whose id
    it was, so one short ``Retry-After`` is waited out (when the time budget allows) and the
    request sent again; a 429 that remains is judged inconclusive, never a fault."""
    answer = b.request(method, path, **payload)
    if answer.status_code != 429:
        return answer
    try:
        wait = float(answer.headers.get("retry-after", ""))
    except ValueError:
        return answer
    if 0 <= wait <= MAX_WAIT_SECONDS and wait < b.ctx.probe.budget.remaining_seconds() / 4:
        time.sleep(wait)
        try:
            answer = b.request(method, path, **payload)
        except httpx.RemoteProtocolError:
            # The wait can outlast the server's keep-alive timeout (uvicorn closes an idle
            # connection after 5 s), and the pooled connection then dies under the request
            # before any answer: send it once more, on a new connection.
            answer = b.request(method, path, **payload)
    return answer


def _bodies(b: Session) -> dict[tuple[str, str], dict[str, Any]]:
    """A body each write would accept on B's own objects, so only authorization can stop it."""
    since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    return {
        ("PATCH", "/v1/workspaces/{workspace_id}"): {"name": "launchproof check"},
        ("PATCH", "/v1/workspaces/{workspace_id}/members/{user_id}"): {"role": "member"},
        ("POST", "/v1/workspaces/{workspace_id}/invitations"): {"email": b.email, "role": "member"},
        ("POST", "/v1/workspaces/{workspace_id}/api-keys"): {
            "name": "launchproof check",
            "scopes": ["workspace:read"],
        },
        ("PATCH", "/v1/bots/{bot_id}"): {"name": "launchproof check"},
        ("POST", "/v1/bots/{bot_id}/conversations"): {"title": "launchproof check"},
        ("PATCH", "/v1/conversations/{conversation_id}"): {"title": "launchproof check"},
        ("POST", "/v1/conversations/{conversation_id}/messages"): {"content": "Hello"},
        ("POST", "/v1/workspaces/{workspace_id}/webhook-endpoints"): {
            "url": "https://launchproof-check.invalid/hook",
            "event_types": ["member.added"],
        },
        ("POST", "/v1/webhook-endpoints/{endpoint_id}/recover"): {"since": since},
    }


def _payload(route: Route, owned: Owned, b: Session) -> dict[str, Any]:
    if route.path.endswith("/files") and route.method == "POST":
        return {"files": {"file": ("check.txt", b"launchproof check\n", "text/plain")}}
    if route.key == ("POST", "/v1/workspaces/{workspace_id}/bots"):
        return {"json": owned.bot_body}
    if route.method in ("GET", "DELETE"):
        return {}
    return {"json": _bodies(b).get(route.key, {})}


def _cases(route: Route, owned: Owned, b_workspace: str | None) -> list[dict[str, str]]:
    """A's ids for every parameter; and, for a two-id route under a workspace, B's workspace
    with A's other id (the "my workspace, your object" swap)."""
    foreign = {name: owned.ids[name] for name in route.param_names}
    cases = [foreign]
    if b_workspace and "workspace_id" in foreign and len(foreign) > 1:
        cases.append({**foreign, "workspace_id": b_workspace})
    return cases


def _random_like(ids: dict[str, str], foreign: dict[str, str], route: Route) -> dict[str, str]:
    randoms = route.random_ids()
    return {name: randoms[name] if value == foreign[name] else value for name, value in ids.items()}


def _matrix_routes(ctx: Context, owned: Owned) -> tuple[list[Route], list[str]]:
    testable: list[Route] = []
    skipped: list[str] = []
    webhook = 0
    for route in private_routes(ctx.options.openapi_path):
        if not route.params:
            continue
        missing = [name for name in route.param_names if name not in owned.ids]
        if WEBHOOK_PARAMS & set(missing):
            webhook += 1
        elif missing:
            skipped.append(f"{route.label} (no object of A for {', '.join(missing)})")
        else:
            testable.append(route)
    if webhook:
        skipped.append(
            f"{webhook} routes need a webhook endpoint id (authorization.webhook_endpoints)"
        )
    # Reads, then writes, then deletes; the workspace and A's session go very last (a broken
    # route deleting them would take the rest of A's objects, or A's cleanups, with it).
    testable.sort(key=lambda r: (ORDER.get(r.method, 1), r.path in LAST))
    return testable, skipped


def _judge(answer: httpx.Response, base: httpx.Response, reached: str) -> str:
    """'' when B's answer equals the random id's 403/404; 'inconclusive: ...' or the fault."""
    if answer.is_success:
        return f"{answer.status_code}: {reached}"
    if 429 in (answer.status_code, base.status_code):
        return "inconclusive: rate limited (429) beyond a short wait"
    difference = same_refusal(answer, base)
    if difference:
        return f"differs from a random id's answer ({difference})"
    if answer.status_code not in (403, 404):
        return f"inconclusive: both answered {answer.status_code}"
    return ""


def _swap(ctx: Context, b: Session, owned: Owned) -> tuple[list[Evidence], list[str], int]:
    routes, skipped = _matrix_routes(ctx, owned)
    b_workspace = b.workspace()
    failures: list[Evidence] = []
    sent = 0
    for route in routes:
        for ids in _cases(route, owned, b_workspace):
            payload = _payload(route, owned, b)
            foreign = {name: owned.ids[name] for name in route.param_names}
            random = route.url(_random_like(ids, foreign, route))
            base = _patient(b, route.method, random, **payload)
            answer = _patient(b, route.method, route.url(ids), **payload)
            sent += 2
            verdict = _judge(answer, base, "B reached A's object")
            mixed = " (B's workspace)" if ids.get("workspace_id") == b_workspace else ""
            if verdict.startswith("inconclusive"):
                skipped.append(f"{route.label}{mixed}: {verdict}")
            elif verdict:
                failures.append(
                    Evidence(
                        b.describe(route.method, route.url(ids)) + mixed,
                        answer.status_code,
                        verdict,
                    )
                )
    return failures, skipped, sent


def _body_ids(b: Session, owned: Owned, skipped: list[str]) -> tuple[list[Evidence], int]:
    """A's file id inside B's own message (``file_ids``) is refused like a random one."""
    conversation = owned.b_conversation(b) if "file_id" in owned.ids else None
    if conversation is None:
        skipped.append("ids in bodies: no file of A or no conversation of B to try them with")
        return [], 0
    path = f"/v1/conversations/{conversation}/messages"
    base, answer = (
        _patient(b, "POST", path, json={"content": "Hello", "file_ids": [file_id]})
        for file_id in (str(uuid.uuid4()), owned.ids["file_id"])
    )
    fault = _judge(answer, base, "B attached A's file to a message")
    line = Evidence(b.describe("POST", path, "A's file id in file_ids"), answer.status_code, fault)
    if fault.startswith("inconclusive"):
        skipped.append(f"POST {path} with A's file id: {fault}")
        return [], 2
    return ([line] if fault else []), 2


@check(
    "authorization",
    "authorization.foreign_ids",
    "another account's ids get the same answer as ids that do not exist, on every verb",
    fix=FIX,
)
def foreign_ids(ctx: Context) -> Verdict:
    pair, why = sessions(ctx, 2)
    if not pair:
        return Verdict.not_checked(why)
    a, b = pair
    owned = owned_objects(ctx, a)
    if "workspace_id" not in owned.ids:
        return Verdict.not_checked("account 1 could not create a workspace", *owned.notes)
    failures, skipped, sent = _swap(ctx, b, owned)
    body_failures, body_sent = _body_ids(b, owned, skipped)
    failures += body_failures
    made = ", ".join(sorted(owned.ids))
    summary = Evidence(
        f"B tried A's ids ({made}) on every id route: {sent + body_sent} requests",
        None,
        f"{len(failures)} answered differently from a random id",
    )
    notes = [Evidence(f"not exercised: {item}", None) for item in skipped]
    listed = failures[:MAX_LISTED]
    if failures:
        return Verdict.failed(summary, *listed, *owned.notes)
    return Verdict.passed(summary, *owned.notes, *notes)


@check(
    "authorization",
    "authorization.webhook_endpoints",
    "another account's webhook endpoint ids get the same answer as ids that do not exist",
    fix=FIX,
)
def webhook_endpoints(ctx: Context) -> Verdict:
    routes = [
        r for r in private_routes(ctx.options.openapi_path) if WEBHOOK_PARAMS & set(r.param_names)
    ]
    if not routes:
        return Verdict.not_checked("the route inventory has no webhook endpoint routes")
    return Verdict.not_checked(
        "registering an endpoint makes the server resolve the receiver's host name (production "
        "refuses IP literals and private addresses), so no URL is accepted without a network call "
        f"from the server; {len(routes)} endpoint routes are left to tests/attack/test_bola.py "
        "(the workspace-level webhook routes are in authorization.foreign_ids)"
    )


@check(
    "authorization",
    "authorization.unguessable_ids",
    "ids are random (UUIDv4), and neighbouring ids name nothing",
    fix="the models' id defaults (uuid.uuid4) in app/*/models.py",
)
def unguessable_ids(ctx: Context) -> Verdict:
    pair, why = sessions(ctx, 1)
    if not pair:
        return Verdict.not_checked(why)
    a = pair[0]
    owned = owned_objects(ctx, a)
    if not owned.ids:
        return Verdict.not_checked("account 1 could not create anything", *owned.notes)
    evidence: list[Evidence] = []
    for name, value in sorted(owned.ids.items()):
        fault = _id_fault(value)
        evidence.append(Evidence(f"{name} of an object A made", None, fault or "UUID version 4"))
    failed = [item for item in evidence if item.detail != "UUID version 4"]
    workspace = owned.ids.get("workspace_id")
    if workspace and not _id_fault(workspace):
        for step in (-1, 1):
            guess = str(uuid.UUID(int=(uuid.UUID(workspace).int + step) % 2**128))
            answer = a.request("GET", f"/v1/workspaces/{guess}")
            line = Evidence(
                a.describe("GET", f"/v1/workspaces/{guess}", f"neighbour {step:+d}"),
                answer.status_code,
            )
            evidence.append(line)
            if answer.status_code != 404:
                failed.append(line)
    return Verdict.failed(*failed) if failed else Verdict.passed(*evidence)


def _id_fault(value: str) -> str:
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        return "not a UUID: sequential or guessable" if value.isdigit() else "not a UUID"
    return "" if parsed.version == 4 else f"UUID version {parsed.version}, not random"
