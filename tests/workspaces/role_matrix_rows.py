"""The role matrix's rows: what each label of docs/role-matrix.md means as a request (its route,
target object, ids and body). The document and ``ROWS`` must name the same rows; a new private
route gets its row in the document and its setup here (CONTRIBUTING.md, step 7).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.factories.passkeys import PASSKEY_OPTIONS, PASSKEYS, b64, register_response
from tests.factories.users import unique_email
from tests.route_table import RouteInfo
from tests.workspaces.role_matrix_cells import (
    WEBHOOK_ENDPOINT,
    Cell,
    Row,
    _const,
    _member,
    _workspace,
)
from tests.workspaces.role_matrix_doc import KEY_COLUMN, NOT_ROLE_SCOPED
from tests.workspaces.role_matrix_stage import MATRIX_BOT

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


def _unanswered_registration(cell: Cell) -> dict[str, Any]:
    """A well-formed registration answering a challenge the server never issued, after the
    caller's session started a real prompt: checked, and refused (a passkey that registered
    would give the cast a factor and change every step-up cell; the success path and its
    attacks are tests/auth/test_passkeys.py)."""
    person = cell.caller.person
    if person is not None and not cell.caller.column.startswith(KEY_COLUMN):
        cell.http.ok(person, "POST", PASSKEY_OPTIONS)
    made_up = {"challenge": b64(b"m" * 32), "rp": {"id": "127.0.0.1"}, "user": {"id": b64(b"u")}}
    _, response = register_response(made_up, cell.server.origin)
    return {"name": "matrix", "passkey": response}


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
        Row("GET", PASSKEYS),
        Row("POST", PASSKEY_OPTIONS),
        Row("POST", PASSKEYS, "an answer to another challenge", body=_unanswered_registration),
        Row(
            "PATCH",
            PASSKEYS + "/{passkey_id}",
            "another user's passkey",
            ids=lambda c: {"passkey_id": c.cast.foreign_passkey_id},
            body=_const({"name": "Matrix"}),
        ),
        Row(
            "DELETE",
            PASSKEYS + "/{passkey_id}",
            "another user's passkey",
            ids=lambda c: {"passkey_id": c.cast.foreign_passkey_id},
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


def row_coverage(
    inventory: list[RouteInfo],
) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """(private routes without a row, rows naming no route) for a route inventory."""
    routes = {route.key for route in inventory} - NOT_ROLE_SCOPED
    covered = {(row.method, row.path) for row in ROWS.values()}
    return routes - covered, covered - routes
