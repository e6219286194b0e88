"""The role matrix's stage: the people (one per role, staff, outsiders), a workspace where each has
their role, and the plain HTTP client the cells call through.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.support import Actor, Database, Server
from tests.workspaces.role_matrix_doc import STAGE_ROLES

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
    foreign_passkey_id: str  # a passkey of an account outside the cast, for the passkey rows

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
