"""The role matrix's cells: a caller per column of docs/role-matrix.md and the objects a row aims
at on a stage (tests/workspaces/role_matrix_stage.py), made on first use.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.factories.mfa import keep_fresh, login_with_totp
from tests.factories.users import login, unique_email
from tests.support import Actor, Database, Server
from tests.workspaces.role_matrix_doc import KEY_COLUMN
from tests.workspaces.role_matrix_stage import (
    Cast,
    Http,
    Stage,
    conversation_of,
    current_session_id,
    invite,
    members_conversation,
    new_bot,
    stage_bot,
)


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
