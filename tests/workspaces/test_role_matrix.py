"""C2, roles: the running service answers exactly as docs/role-matrix.md says, cell by cell.

The document is the specification and this file reads it: every table whose first header is
``Route`` is parsed, and each (row, principal) cell becomes one test. Each row label names a
route and, after `` · ``, which object it targets; ``ROWS`` below says how to set that up. The
document and ``ROWS`` must name the same rows, the tables must have a column for every principal
(every role, every API-key scope), and every private route of the route inventory (every router
app/api.py includes, but the caller's own credentials) must have a row: none of the three can
drift from the others (tests/workspaces/test_role_matrix_coverage.py proves a new router fails).
Chat cells send with ``Accept: application/json`` and a one-word prompt to the model stub, so a
cell stays a single short request.

The scenario classes below the matrix check what a single cell cannot: that role changes take
effect on the very next request, the last-owner rule, and ownership transfer.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.auth.mfa.router import router as mfa_router
from app.auth.router import router as auth_router
from app.auth.scopes import Scope
from app.workspaces.permissions import Role
from tests.factories.mfa import keep_fresh, login_with_totp
from tests.factories.users import create_actor, login, signup, unique_email
from tests.route_table import RouteInfo, private_routes, route_table, without_request_id
from tests.support import ROOT, Actor, Database, Server

pytestmark = pytest.mark.checklist(
    "C2",
    red="grant a role or key scope a permission docs/role-matrix.md denies "
    "(app/workspaces/permissions.py), keep a demoted or removed member's access for the next "
    "request, or answer 403 for a foreign workspace",
)

MATRIX_DOC = ROOT / "docs" / "role-matrix.md"
# Every private route of the route inventory (app/api.py) needs a row, whichever router it is on,
# so a new router joins by itself. Except the caller's own credentials (logout, logout-all,
# password change, their second factors): no workspace role is involved; tests/auth and the route
# inventory's credential matrix cover them.
NOT_ROLE_SCOPED = frozenset(
    route.key for router in (auth_router, mfa_router) for route in route_table(router.routes)
)
PEOPLE = ("owner", "admin", "member", "viewer", "non-member", "staff", "anonymous")
KEY_COLUMN = "key "
KEYS = tuple(KEY_COLUMN + scope.value for scope in Scope)
COLUMNS = PEOPLE + KEYS
STAGE_ROLES = ("owner", "admin", "member", "viewer")


# --- Reading the document -------------------------------------------------------------------


def _cells(line: str) -> list[str]:
    return [cell.strip().replace("`", "") for cell in line.strip().strip("|").split("|")]


def parse_matrix(path: Path) -> dict[str, dict[str, int]]:
    """``{row label: {column: expected status}}`` from every ``| Route | ...`` table in ``path``."""
    matrix: dict[str, dict[str, int]] = {}
    header: list[str] | None = None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.lstrip().startswith("|"):
            header = None
            continue
        cells = _cells(line)
        if header is None:
            header = cells if cells[0] == "Route" else []
            continue
        if not header or set("".join(cells)) <= set("-: "):
            continue
        assert len(cells) == len(header), f"{path.name}:{number}: {len(cells)} cells"
        row = matrix.setdefault(cells[0], {})
        for column, value in zip(header[1:], cells[1:], strict=True):
            assert column not in row, f"{path.name}:{number}: {cells[0]} / {column} twice"
            assert re.fullmatch(r"[1-5]\d\d", value), f"{path.name}:{number}: {value!r}"
            row[column] = int(value)
    return matrix


MATRIX = parse_matrix(MATRIX_DOC)


# --- The people, the stage, and how to call as each principal -------------------------------


class Http:
    """Connection reuse; each request carries exactly the headers given (no cookie jar)."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.client = httpx.Client(base_url=server.url, timeout=30)

    def request(
        self,
        headers: Mapping[str, str],
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        files: Mapping[str, Any] | None = None,  # a multipart upload instead of JSON (files)
    ) -> httpx.Response:
        self.client.cookies.clear()
        if files is not None:
            return self.client.request(method, path, headers=dict(headers), files=dict(files))
        return self.client.request(
            method, path, headers=dict(headers), json=dict(body) if body is not None else None
        )

    def ok(
        self,
        actor: Actor,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        status: int = 200,
    ) -> Any:
        response = self.request(actor.headers(), method, path, body)
        assert response.status_code == status, f"{method} {path}: {response.text}"
        return response.json() if response.content else None


@dataclass(frozen=True)
class Cast:
    """The module's people (created once: sign-up and login are the slow part)."""

    owner: Actor
    admin: Actor
    member: Actor
    viewer: Actor
    spare: Actor  # a second plain member: the target of member-management rows
    outsider: Actor  # verified, signed in, belongs to none of the stages
    staff: Actor
    bystander_id: str  # an account nobody uses: the target of the suspend row
    spare_other_session_id: str  # another user's live session, for the session row

    def by_role(self, role: str) -> Actor:
        actors = {"owner": self.owner, "admin": self.admin, "member": self.member}
        return {**actors, "viewer": self.viewer}[role]


@dataclass
class Stage:
    """A workspace in which the cast holds their roles, plus the spare member."""

    http: Http
    cast: Cast
    workspace_id: str
    keys: dict[str, str] = field(default_factory=dict)
    bot_id: str | None = None  # the stage's bot, made on first use (chat rows only)
    conversations: dict[str, str] = field(default_factory=dict)  # whose -> conversation id

    def key(self, scope: str) -> str:
        """An API key with exactly ``scope``, created by the owner (cached per stage)."""
        if scope not in self.keys:
            created = self.http.ok(
                self.cast.owner,
                "POST",
                f"/v1/workspaces/{self.workspace_id}/api-keys",
                {"name": f"matrix {scope}", "scopes": [scope]},
                status=201,
            )
            self.keys[scope] = str(created["key"])
        return self.keys[scope]


def invite(
    http: Http, db: Database, inviter: Actor, workspace_id: str, email: str, role: str
) -> str:
    http.ok(
        inviter,
        "POST",
        f"/v1/workspaces/{workspace_id}/invitations",
        {"email": email, "role": role},
        status=201,
    )
    return db.token_from_mail(email, "invitation")


def join(
    http: Http, db: Database, inviter: Actor, workspace_id: str, actor: Actor, role: str
) -> None:
    token = invite(http, db, inviter, workspace_id, actor.email, role)
    http.ok(actor, "POST", "/v1/invitations/accept", {"token": token})


def build_stage(http: Http, db: Database, cast: Cast) -> Stage:
    """A fresh workspace: the cast's owner owns it, the others join with their roles."""
    created = http.ok(cast.owner, "POST", "/v1/workspaces", {"name": "Stage"}, status=201)
    workspace_id = str(created["id"])
    for role in ("admin", "member", "viewer"):
        join(http, db, cast.owner, workspace_id, cast.by_role(role), role)
    join(http, db, cast.owner, workspace_id, cast.spare, "member")
    return Stage(http, cast, workspace_id)


# --- Chat on a stage (made on first use: most stages never chat) ----------------------------

MATRIX_BOT = {
    "name": "Matrix bot",
    "system_prompt": "You answer in one line.",
    "model": "stub-small",
    "max_output_tokens": 32,
    "tools": ["create_note"],
}
FORMER_MEMBERS = ("non-member", "staff")  # their "own" conversation predates their leaving


def new_bot(http: Http, stage: Stage) -> str:
    created = http.ok(
        stage.cast.owner,
        "POST",
        f"/v1/workspaces/{stage.workspace_id}/bots",
        MATRIX_BOT,
        status=201,
    )
    return str(created["id"])


def stage_bot(http: Http, stage: Stage) -> str:
    if stage.bot_id is None:
        stage.bot_id = new_bot(http, stage)
    return stage.bot_id


def start_conversation(http: Http, stage: Stage, actor: Actor) -> str:
    bot_id = stage_bot(http, stage)
    created = http.ok(actor, "POST", f"/v1/bots/{bot_id}/conversations", {}, status=201)
    return str(created["id"])


def set_role(http: Http, stage: Stage, actor: Actor, role: str) -> None:
    path = f"/v1/workspaces/{stage.workspace_id}/members/{actor.user_id}"
    http.ok(stage.cast.owner, "PATCH", path, {"role": role})


def conversation_of(http: Http, db: Database, stage: Stage, person: str) -> str:
    """A new conversation that ``person`` (a column of the people table) started on the stage.

    The viewer's is started while a member, then they are demoted back; the non-member's and
    staff's while members of the stage, then they leave it again.
    """
    cast = stage.cast
    if person in STAGE_ROLES and person != "viewer":
        return start_conversation(http, stage, cast.by_role(person))
    if person == "viewer":
        set_role(http, stage, cast.viewer, "member")
        try:
            return start_conversation(http, stage, cast.viewer)
        finally:
            set_role(http, stage, cast.viewer, "viewer")
    assert person in FORMER_MEMBERS, person
    actor = cast.outsider if person == "non-member" else cast.staff
    join(http, db, cast.owner, stage.workspace_id, actor, "member")
    try:
        return start_conversation(http, stage, actor)
    finally:
        path = f"/v1/workspaces/{stage.workspace_id}/members/{actor.user_id}"
        http.ok(actor, "DELETE", path, status=204)


def with_a_tool_call(http: Http, actor: Actor, conversation_id: str) -> None:
    """One turn in which the model calls (and the service runs) ``create_note``."""
    marker = '[[tool:create_note {"title": "Matrix", "body": "From the matrix."}]]'
    response = http.request(
        {**actor.headers(), "Accept": "application/json"},
        "POST",
        f"/v1/conversations/{conversation_id}/messages",
        {"content": f"Note this. {marker} [[session:matrix-{uuid.uuid4().hex}]]"},
    )
    assert response.status_code == 200, response.text
    assert [c["outcome"] for c in response.json()["tool_calls"]] == ["ok"], response.text


def members_conversation(http: Http, stage: Stage) -> str:
    """A new conversation of the stage's member, with one executed tool call."""
    conversation_id = start_conversation(http, stage, stage.cast.member)
    with_a_tool_call(http, stage.cast.member, conversation_id)
    return conversation_id


def current_session_id(http: Http, actor: Actor) -> str:
    sessions = http.ok(actor, "GET", "/v1/me/sessions")
    return str(next(item["id"] for item in sessions["items"] if item["current"]))


@pytest.fixture(scope="module")
def http(server: Server) -> Iterator[Http]:
    client = Http(server)
    yield client
    client.client.close()


@pytest.fixture(scope="module")
def cast(server: Server, db: Database, http: Http, staff_account: Actor) -> Cast:
    people = {label: create_actor(server, db, label) for label in (*STAGE_ROLES, "spare", "out")}
    bystander_email, _ = signup(server, db, email=unique_email("bystander"))
    bystander_id = db.scalar("SELECT id FROM user_account WHERE email = %s", bystander_email)
    spare_again = login(server, people["spare"].email, people["spare"].password)
    return Cast(
        owner=people["owner"],
        admin=people["admin"],
        member=people["member"],
        viewer=people["viewer"],
        spare=people["spare"],
        outsider=people["out"],
        staff=staff_account,
        bystander_id=str(bystander_id),
        spare_other_session_id=current_session_id(http, spare_again),
    )


@pytest.fixture(scope="module")
def shared_stage(http: Http, db: Database, cast: Cast) -> Stage:
    """For rows whose cells cannot change what the next cell sees."""
    return build_stage(http, db, cast)


@dataclass(frozen=True)
class Caller:
    column: str
    headers: dict[str, str]
    person: Actor | None  # the signed-in person, or the key's creator; None when anonymous


def caller_for(column: str, stage: Stage, server: Server) -> Caller:
    cast = stage.cast
    if column.startswith(KEY_COLUMN):
        key = stage.key(column.removeprefix(KEY_COLUMN))
        return Caller(column, {"Authorization": f"Bearer {key}"}, cast.owner)
    if column == "anonymous":
        return Caller(column, {"Origin": server.origin}, None)
    person = {"non-member": cast.outsider, "staff": keep_fresh(cast.staff)}.get(column)
    person = person or cast.by_role(column)
    return Caller(column, person.headers(), person)


# --- The rows: what each label means --------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """Everything a row's setup may use."""

    http: Http
    db: Database
    server: Server
    stage: Stage
    caller: Caller

    @property
    def cast(self) -> Cast:
        return self.stage.cast

    def caller_id(self) -> str:
        return self.caller.person.user_id if self.caller.person else str(uuid.uuid4())

    def caller_email(self) -> str:
        return self.caller.person.email if self.caller.person else unique_email("nobody")

    def own_other_session(self) -> str:
        """A second live session of the caller (for a key: of its creator)."""
        person = self.caller.person
        if person is None:
            return str(uuid.uuid4())
        if person.totp_secret is not None:  # staff: two-step login (docs/mfa.md)
            again = login_with_totp(self.server, person.email, person.password, person.totp_secret)
        else:
            again = login(self.server, person.email, person.password)
        return current_session_id(self.http, again)

    def new_key_id(self) -> str:
        created = self.http.ok(
            self.cast.owner,
            "POST",
            f"/v1/workspaces/{self.stage.workspace_id}/api-keys",
            {"name": "target", "scopes": ["workspace:read"]},
            status=201,
        )
        return str(created["id"])

    def invitation_token(self, email: str) -> str:
        """An invitation to a brand-new workspace (hosted by the spare), addressed to ``email``."""
        spare = self.cast.spare
        host = self.http.ok(spare, "POST", "/v1/workspaces", {"name": "Host"}, status=201)
        return invite(self.http, self.db, spare, str(host["id"]), email, "member")

    @property
    def person(self) -> str:
        """The people-table column the caller acts as (a key acts as its creator, the owner)."""
        column = self.caller.column
        return "owner" if column.startswith(KEY_COLUMN) else column

    def bot(self) -> dict[str, str]:
        return {"bot_id": stage_bot(self.http, self.stage)}

    def fresh_bot(self) -> dict[str, str]:
        return {"bot_id": new_bot(self.http, self.stage)}

    def own_conversation(self) -> dict[str, str]:
        """The caller's conversation on the stage (made once per person and stage)."""
        if self.person == "anonymous":
            return {"conversation_id": str(uuid.uuid4())}
        cache = self.stage.conversations
        if self.person not in cache:
            cache[self.person] = conversation_of(self.http, self.db, self.stage, self.person)
        return {"conversation_id": cache[self.person]}

    def fresh_own_conversation(self) -> dict[str, str]:
        if self.person == "anonymous":
            return {"conversation_id": str(uuid.uuid4())}
        return {"conversation_id": conversation_of(self.http, self.db, self.stage, self.person)}

    def members_conversation(self) -> dict[str, str]:
        """The stage member's conversation with a tool call (made once per stage)."""
        cache = self.stage.conversations
        if "member's" not in cache:
            cache["member's"] = members_conversation(self.http, self.stage)
        return {"conversation_id": cache["member's"]}

    def fresh_members_conversation(self) -> dict[str, str]:
        return {"conversation_id": members_conversation(self.http, self.stage)}

    # Webhooks
    def new_endpoint(self) -> dict[str, str]:
        created = self.http.ok(
            self.cast.owner,
            "POST",
            f"/v1/workspaces/{self.stage.workspace_id}/webhook-endpoints",
            WEBHOOK_ENDPOINT,
            status=201,
        )
        return {"endpoint_id": str(created["id"])}

    def endpoint(self) -> dict[str, str]:
        """The stage's webhook endpoint (made once per stage)."""
        if self.stage.workspace_id not in STAGE_ENDPOINTS:
            STAGE_ENDPOINTS[self.stage.workspace_id] = self.new_endpoint()["endpoint_id"]
        return {"endpoint_id": STAGE_ENDPOINTS[self.stage.workspace_id]}

    def endpoint_delivery(self) -> dict[str, str]:
        """A delivery of the stage's endpoint (a queued test event)."""
        ids = self.endpoint()
        queued = self.http.ok(
            self.cast.owner, "POST", f"/v1/webhook-endpoints/{ids['endpoint_id']}/test", status=202
        )
        return {**ids, "delivery_id": str(queued["delivery_id"])}

    # Files: the shared server runs without a scanner, so uploads are usable at once.
    def new_file(self) -> dict[str, str]:
        response = self.http.request(
            self.cast.owner.headers(),
            "POST",
            f"/v1/workspaces/{self.stage.workspace_id}/files",
            files=MATRIX_UPLOAD,
        )
        assert response.status_code == 201, response.text
        return {"file_id": str(response.json()["id"])}

    def file(self) -> dict[str, str]:
        """The stage's file, uploaded by its owner (made once per stage)."""
        if self.stage.workspace_id not in STAGE_FILES:
            STAGE_FILES[self.stage.workspace_id] = self.new_file()["file_id"]
        return {"file_id": STAGE_FILES[self.stage.workspace_id]}


# Files: one small text file; stage workspace id -> its file id.
MATRIX_UPLOAD = {"file": ("matrix.txt", b"From the matrix.\n", "text/plain")}
STAGE_FILES: dict[str, str] = {}

# Webhooks: 127.0.0.2 is the shared server's loopback allowance (tests/conftest.py), unused.
WEBHOOK_ENDPOINT = {"url": "http://127.0.0.2:9/hook", "event_types": ["member.added"]}
STAGE_ENDPOINTS: dict[str, str] = {}  # stage workspace id -> its endpoint id


Ids = Callable[[Cell], dict[str, str]]
Body = Callable[[Cell], dict[str, Any] | None]


def _no_ids(_: Cell) -> dict[str, str]:
    return {}


def _no_body(_: Cell) -> dict[str, Any] | None:
    return None


def _const(body: dict[str, Any]) -> Body:
    return lambda _: body


def _member(target: Callable[[Cell], str]) -> Ids:
    return lambda c: {"workspace_id": c.stage.workspace_id, "user_id": target(c)}


def _workspace(c: Cell) -> dict[str, str]:
    return {"workspace_id": c.stage.workspace_id}


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    target: str = ""  # after " · " in the label: which object the row aims at
    ids: Ids = _no_ids
    body: Body = _no_body
    fresh_stage: bool = False  # the cell changes membership or deletes: it gets its own stage
    headers: tuple[tuple[str, str], ...] = ()  # sent on top of the caller's own
    upload: bool = False  # files: the body is a multipart upload (MATRIX_UPLOAD)

    @property
    def label(self) -> str:
        route = f"{self.method} {self.path}"
        return f"{route} · {self.target}" if self.target else route


WS = "/v1/workspaces/{workspace_id}"
MEMBER = WS + "/members/{user_id}"
BOT = "/v1/bots/{bot_id}"
CONVERSATION = "/v1/conversations/{conversation_id}"
A_BOT = "a bot of the workspace"
OWN = "your own"
MEMBERS = "the member's conversation"
JSON_ANSWER = (("Accept", "application/json"),)
ENDPOINT = "/v1/webhook-endpoints/{endpoint_id}"
AN_ENDPOINT = "an endpoint of the workspace"
A_FILE = "a file of the workspace"  # files
ROWS: dict[str, Row] = {
    row.label: row
    for row in (
        Row("GET", "/v1/me"),
        Row("PATCH", "/v1/me", body=_const({"display_name": "Matrix"})),
        Row("GET", "/v1/me/sessions"),
        Row(
            "DELETE",
            "/v1/me/sessions/{session_id}",
            "another session of your own",
            ids=lambda c: {"session_id": c.own_other_session()},
        ),
        Row(
            "DELETE",
            "/v1/me/sessions/{session_id}",
            "another user's session",
            ids=lambda c: {"session_id": c.cast.spare_other_session_id},
        ),
        Row("POST", "/v1/workspaces", body=_const({"name": "Matrix"})),
        Row("GET", "/v1/workspaces"),
        Row("GET", WS, ids=_workspace),
        Row("PATCH", WS, ids=_workspace, body=_const({"name": "Stage"})),
        Row("DELETE", WS, ids=_workspace, fresh_stage=True),
        Row("GET", WS + "/members", ids=_workspace),
        Row(
            "PATCH",
            MEMBER,
            "a member → viewer",
            ids=_member(lambda c: c.cast.spare.user_id),
            body=_const({"role": "viewer"}),
            fresh_stage=True,
        ),
        Row(
            "PATCH",
            MEMBER,
            "a member → owner",
            ids=_member(lambda c: c.cast.spare.user_id),
            body=_const({"role": "owner"}),
            fresh_stage=True,
        ),
        Row(
            "PATCH",
            MEMBER,
            "the only owner → admin",
            ids=_member(lambda c: c.cast.owner.user_id),
            body=_const({"role": "admin"}),
            fresh_stage=True,
        ),
        Row(
            "DELETE",
            MEMBER,
            "a member",
            ids=_member(lambda c: c.cast.spare.user_id),
            fresh_stage=True,
        ),
        Row(
            "DELETE",
            MEMBER,
            "the only owner",
            ids=_member(lambda c: c.cast.owner.user_id),
            fresh_stage=True,
        ),
        Row("DELETE", MEMBER, "yourself (leave)", ids=_member(Cell.caller_id), fresh_stage=True),
        Row(
            "POST",
            WS + "/invitations",
            "role member",
            ids=_workspace,
            body=lambda _: {"email": unique_email("invitee"), "role": "member"},
        ),
        Row(
            "POST",
            WS + "/invitations",
            "role owner",
            ids=_workspace,
            body=lambda _: {"email": unique_email("invitee"), "role": "owner"},
        ),
        Row(
            "POST",
            "/v1/invitations/accept",
            "addressed to you",
            body=lambda c: {"token": c.invitation_token(c.caller_email())},
        ),
        Row(
            "POST",
            "/v1/invitations/accept",
            "addressed to someone else",
            body=lambda c: {"token": c.invitation_token(unique_email("someone"))},
        ),
        Row(
            "POST",
            WS + "/api-keys",
            ids=_workspace,
            body=_const({"name": "matrix", "scopes": ["workspace:read"]}),
        ),
        Row("GET", WS + "/api-keys", ids=_workspace),
        Row(
            "DELETE",
            WS + "/api-keys/{key_id}",
            "a key of the workspace",
            ids=lambda c: {"workspace_id": c.stage.workspace_id, "key_id": c.new_key_id()},
        ),
        Row("GET", "/v1/admin/users"),
        Row(
            "POST",
            "/v1/admin/users/{user_id}/suspend",
            "another user",
            ids=lambda c: {"user_id": c.cast.bystander_id},
        ),
        Row("GET", "/v1/admin/audit-events"),
        Row(
            "POST",
            "/v1/admin/users/{user_id}/second-factors/reset",
            "another user",
            ids=lambda c: {"user_id": c.cast.bystander_id},
        ),
        # Bots and chat
        Row("POST", WS + "/bots", ids=_workspace, body=_const(MATRIX_BOT)),
        Row("GET", WS + "/bots", ids=_workspace),
        Row("GET", BOT, A_BOT, ids=Cell.bot),
        Row("PATCH", BOT, A_BOT, ids=Cell.bot, body=_const({"temperature": 0.5})),
        Row("DELETE", BOT, A_BOT, ids=Cell.fresh_bot),
        Row("POST", BOT + "/conversations", A_BOT, ids=Cell.bot, body=_const({})),
        Row("GET", WS + "/conversations", ids=_workspace),
        Row("GET", CONVERSATION, OWN, ids=Cell.own_conversation),
        Row("GET", CONVERSATION, MEMBERS, ids=Cell.members_conversation),
        Row("PATCH", CONVERSATION, OWN, ids=Cell.own_conversation, body=_const({"title": "Mine"})),
        Row(
            "PATCH",
            CONVERSATION,
            MEMBERS,
            ids=Cell.members_conversation,
            body=_const({"title": "Mine"}),
        ),
        Row("DELETE", CONVERSATION, OWN, ids=Cell.fresh_own_conversation),
        Row("DELETE", CONVERSATION, MEMBERS, ids=Cell.fresh_members_conversation),
        Row("GET", CONVERSATION + "/messages", OWN, ids=Cell.own_conversation),
        Row("GET", CONVERSATION + "/messages", MEMBERS, ids=Cell.members_conversation),
        Row(
            "POST",
            CONVERSATION + "/messages",
            OWN,
            ids=Cell.own_conversation,
            body=_const({"content": "Hello"}),
            headers=JSON_ANSWER,
        ),
        Row(
            "POST",
            CONVERSATION + "/messages",
            MEMBERS,
            ids=Cell.members_conversation,
            body=_const({"content": "Hello"}),
            headers=JSON_ANSWER,
        ),
        Row("GET", CONVERSATION + "/tool-calls", OWN, ids=Cell.own_conversation),
        Row("GET", CONVERSATION + "/tool-calls", MEMBERS, ids=Cell.members_conversation),
        Row("GET", "/v1/tools"),
        Row("GET", "/v1/models"),
        # Webhook endpoints
        Row("POST", WS + "/webhook-endpoints", ids=_workspace, body=_const(WEBHOOK_ENDPOINT)),
        Row("GET", WS + "/webhook-endpoints", ids=_workspace),
        Row("GET", ENDPOINT, AN_ENDPOINT, ids=Cell.endpoint),
        Row("PATCH", ENDPOINT, AN_ENDPOINT, ids=Cell.endpoint, body=_const({"description": "x"})),
        Row("DELETE", ENDPOINT, AN_ENDPOINT, ids=Cell.new_endpoint),
        Row("POST", ENDPOINT + "/rotate-secret", AN_ENDPOINT, ids=Cell.endpoint),
        Row("POST", ENDPOINT + "/test", AN_ENDPOINT, ids=Cell.endpoint),
        Row("GET", ENDPOINT + "/deliveries", AN_ENDPOINT, ids=Cell.endpoint),
        Row(
            "POST",
            ENDPOINT + "/deliveries/{delivery_id}/redeliver",
            "a delivery of an endpoint of the workspace",
            ids=Cell.endpoint_delivery,
        ),
        Row(
            "POST",
            ENDPOINT + "/recover",
            AN_ENDPOINT,
            ids=Cell.endpoint,
            body=lambda _: {"since": (datetime.now(UTC) - timedelta(hours=1)).isoformat()},
        ),
        # Files
        Row("POST", WS + "/files", ids=_workspace, upload=True),
        Row("GET", WS + "/files", ids=_workspace),
        Row("GET", "/v1/files/{file_id}", A_FILE, ids=Cell.file),
        Row("GET", "/v1/files/{file_id}/content", A_FILE, ids=Cell.file),
        Row("DELETE", "/v1/files/{file_id}", A_FILE, ids=Cell.new_file),
    )
}


# --- The document, the rows and the routers agree -------------------------------------------


class TestTheDocumentIsComplete:
    def test_rows_match_the_document(self) -> None:
        assert set(MATRIX) == set(ROWS), (
            f"only in docs/role-matrix.md: {sorted(set(MATRIX) - set(ROWS))}; "
            f"only in ROWS: {sorted(set(ROWS) - set(MATRIX))}"
        )

    def test_every_row_has_every_principal(self) -> None:
        assert {role.value for role in Role} <= set(COLUMNS)
        for label, cells in MATRIX.items():
            assert set(cells) == set(COLUMNS), f"{label}: columns {sorted(cells)}"

    def test_every_route_of_the_routers_has_a_row(self) -> None:
        without_row, no_route = row_coverage(private_routes())
        assert not without_row, f"routes without a row: {sorted(without_row)}"
        assert not no_route, f"rows for no route: {sorted(no_route)}"


def row_coverage(
    inventory: list[RouteInfo],
) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """(private routes without a row, rows naming no route) for a route inventory."""
    routes = {route.key for route in inventory} - NOT_ROLE_SCOPED
    covered = {(row.method, row.path) for row in ROWS.values()}
    return routes - covered, covered - routes


# --- The matrix -----------------------------------------------------------------------------


def _matrix_cells() -> list[Any]:
    return [
        pytest.param(label, column, expected, id=f"{column} | {label}")
        for label, cells in MATRIX.items()
        for column, expected in cells.items()
        if label in ROWS
    ]


@pytest.mark.parametrize(("label", "column", "expected"), _matrix_cells())
def test_matrix_cell(
    http: Http,
    db: Database,
    server: Server,
    cast: Cast,
    shared_stage: Stage,
    label: str,
    column: str,
    expected: int,
) -> None:
    row = ROWS[label]
    stage = build_stage(http, db, cast) if row.fresh_stage else shared_stage
    cell = Cell(http, db, server, stage, caller_for(column, stage, server))
    path = row.path.format(**row.ids(cell))
    headers = {**cell.caller.headers, **dict(row.headers)}
    upload = MATRIX_UPLOAD if row.upload else None
    response = http.request(headers, row.method, path, row.body(cell), files=upload)
    assert response.status_code == expected, f"{label} as {column}: {response.text}"


# --- Scenarios ------------------------------------------------------------------------------


@pytest.fixture
def stage(http: Http, db: Database, cast: Cast) -> Stage:
    return build_stage(http, db, cast)


def role_of(db: Database, stage: Stage, actor: Actor) -> str | None:
    role = db.scalar(
        "SELECT role::text FROM workspace_membership WHERE workspace_id = %s AND user_id = %s",
        stage.workspace_id,
        actor.user_id,
    )
    return None if role is None else str(role)


def memberships(db: Database, stage: Stage) -> list[tuple[Any, ...]]:
    return db.rows(
        "SELECT user_id, role::text FROM workspace_membership WHERE workspace_id = %s "
        "ORDER BY user_id",
        stage.workspace_id,
    )


class TestChangesTakeEffectOnTheNextRequest:
    def test_demoted_admin_cannot_rename_on_the_next_request(
        self, http: Http, cast: Cast, stage: Stage
    ) -> None:
        ws = f"/v1/workspaces/{stage.workspace_id}"
        http.ok(cast.admin, "PATCH", ws, {"name": "Renamed by admin"})
        http.ok(cast.owner, "PATCH", f"{ws}/members/{cast.admin.user_id}", {"role": "viewer"})
        response = http.request(cast.admin.headers(), "PATCH", ws, {"name": "Again"})
        assert response.status_code == 403, response.text

    def test_removed_member_loses_the_workspace_on_the_next_request(
        self, http: Http, cast: Cast, stage: Stage
    ) -> None:
        ws = f"/v1/workspaces/{stage.workspace_id}"
        http.ok(cast.member, "GET", ws)
        http.ok(cast.owner, "DELETE", f"{ws}/members/{cast.member.user_id}", status=204)
        assert http.request(cast.member.headers(), "GET", ws).status_code == 404
        listed = http.ok(cast.member, "GET", "/v1/workspaces?limit=100")
        assert stage.workspace_id not in {w["id"] for w in listed["items"]}

    def test_key_of_a_removed_creator_stops_on_the_next_request(
        self, http: Http, cast: Cast, stage: Stage
    ) -> None:
        ws = f"/v1/workspaces/{stage.workspace_id}"
        created = http.ok(
            cast.admin,
            "POST",
            f"{ws}/api-keys",
            {"name": "admin's", "scopes": ["workspace:read"]},
            status=201,
        )
        bearer = {"Authorization": f"Bearer {created['key']}"}
        assert http.request(bearer, "GET", ws).status_code == 200
        http.ok(cast.owner, "DELETE", f"{ws}/members/{cast.admin.user_id}", status=204)
        assert http.request(bearer, "GET", ws).status_code == 401


class TestLastOwner:
    def test_the_last_owner_cannot_leave(
        self, http: Http, db: Database, cast: Cast, stage: Stage
    ) -> None:
        before = memberships(db, stage)
        path = f"/v1/workspaces/{stage.workspace_id}/members/{cast.owner.user_id}"
        response = http.request(cast.owner.headers(), "DELETE", path)
        assert response.status_code == 409, response.text
        assert without_request_id(response)["code"] == "last_owner"
        assert memberships(db, stage) == before

    def test_the_last_owner_cannot_be_demoted(
        self, http: Http, db: Database, cast: Cast, stage: Stage
    ) -> None:
        before = memberships(db, stage)
        path = f"/v1/workspaces/{stage.workspace_id}/members/{cast.owner.user_id}"
        for role in ("admin", "member", "viewer"):
            response = http.request(cast.owner.headers(), "PATCH", path, {"role": role})
            assert response.status_code == 409, response.text
            assert without_request_id(response)["code"] == "last_owner"
        assert memberships(db, stage) == before


class TestAdminsCannotTouchOwners:
    def test_admin_cannot_demote_or_remove_the_owner(
        self, http: Http, db: Database, cast: Cast, stage: Stage
    ) -> None:
        before = memberships(db, stage)
        path = f"/v1/workspaces/{stage.workspace_id}/members/{cast.owner.user_id}"
        demote = http.request(cast.admin.headers(), "PATCH", path, {"role": "viewer"})
        remove = http.request(cast.admin.headers(), "DELETE", path)
        assert (demote.status_code, remove.status_code) == (403, 403)
        assert memberships(db, stage) == before

    def test_admin_cannot_grant_owner(
        self, http: Http, db: Database, cast: Cast, stage: Stage
    ) -> None:
        before = memberships(db, stage)
        ws = f"/v1/workspaces/{stage.workspace_id}"
        for target in (cast.spare, cast.admin):  # someone else, or themselves
            response = http.request(
                cast.admin.headers(), "PATCH", f"{ws}/members/{target.user_id}", {"role": "owner"}
            )
            assert response.status_code == 403, response.text
        invited = http.request(
            cast.admin.headers(),
            "POST",
            f"{ws}/invitations",
            {"email": unique_email("would-be-owner"), "role": "owner"},
        )
        assert invited.status_code == 403, invited.text
        assert memberships(db, stage) == before


class TestOwnershipTransfer:
    def test_owner_promotes_a_member_then_steps_down(
        self, http: Http, db: Database, cast: Cast, stage: Stage
    ) -> None:
        ws = f"/v1/workspaces/{stage.workspace_id}"
        http.ok(cast.owner, "PATCH", f"{ws}/members/{cast.spare.user_id}", {"role": "owner"})
        http.ok(cast.owner, "PATCH", f"{ws}/members/{cast.owner.user_id}", {"role": "admin"})
        assert (role_of(db, stage, cast.spare), role_of(db, stage, cast.owner)) == (
            "owner",
            "admin",
        )
        # The former owner is an admin now, on the very next request...
        assert http.request(cast.owner.headers(), "DELETE", ws).status_code == 403
        demote = http.request(
            cast.owner.headers(), "PATCH", f"{ws}/members/{cast.spare.user_id}", {"role": "admin"}
        )
        assert demote.status_code == 403, demote.text
        # ...and the new owner is the last one, bound by the same rule.
        leave = http.request(cast.spare.headers(), "DELETE", f"{ws}/members/{cast.spare.user_id}")
        assert leave.status_code == 409, leave.text
        assert role_of(db, stage, cast.spare) == "owner"


class TestForbiddenVersusMissing:
    def test_visible_but_not_allowed_is_403_and_foreign_is_404(
        self, http: Http, db: Database, cast: Cast, stage: Stage
    ) -> None:
        """403 only says "you can see it, your role cannot do this"; a foreign workspace is
        indistinguishable from one that does not exist."""
        before = db.snapshot("workspace")
        ws = f"/v1/workspaces/{stage.workspace_id}"
        viewer = http.request(cast.viewer.headers(), "PATCH", ws, {"name": "Viewer's"})
        outsider = http.request(cast.outsider.headers(), "PATCH", ws, {"name": "Outsider's"})
        nowhere = http.request(
            cast.outsider.headers(), "PATCH", f"/v1/workspaces/{uuid.uuid4()}", {"name": "x"}
        )
        assert viewer.status_code == 403
        assert without_request_id(viewer)["code"] == "forbidden"
        assert outsider.status_code == 404
        assert without_request_id(outsider) == without_request_id(nowhere)
        assert db.snapshot("workspace") == before


class TestKeysSeeOnlyTheirWorkspace:
    def test_a_key_lists_its_own_workspace_only_if_it_may_read_it(
        self, http: Http, cast: Cast, stage: Stage
    ) -> None:
        """The owner belongs to many workspaces; a key of one of them lists that one alone."""
        for scope, expected in (("workspace:read", [stage.workspace_id]), ("bots:read", [])):
            bearer = {"Authorization": f"Bearer {stage.key(scope)}"}
            listed = http.request(bearer, "GET", "/v1/workspaces?limit=100")
            assert listed.status_code == 200, listed.text
            assert [w["id"] for w in listed.json()["items"]] == expected
        owner_sees = http.ok(cast.owner, "GET", "/v1/workspaces?limit=100")
        assert len(owner_sees["items"]) > 1
