"""The BOLA matrix's checks, shared: tests/attack/test_bola.py collects them against the shared
server, tests/isolation/test_bola_without_rls.py against a server whose database has RLS off.

Plain functions named like tests (pytest collects them only where a test module imports them), so
both runs execute the same assertions.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime

import pytest

from app.core.pagination import encode_cursor
from app.identity.dependencies import get_staff_principal
from tests.attack.bola_world import (
    Http,
    Tenant,
    _cases,
    _insider_cases,
    _may_review_tool_calls,
    body_for,
    state,
)
from tests.factories.users import unique_email
from tests.route_table import RouteInfo, without_request_id
from tests.support import Database


def test_the_victims_ids_are_live(http: Http, victim: Tenant) -> None:
    """Control: the ids used below are real, so a 404 for Mallory is authorization at work."""
    assert http.request(victim.owner, "GET", f"/v1/bots/{victim.bot_id}").status_code == 200
    conversation = f"/v1/conversations/{victim.conversation_id}"
    assert http.request(victim.member, "GET", conversation).status_code == 200
    messages = http.request(victim.member, "GET", f"{conversation}/messages").json()["items"]
    assert len(messages) == 4
    calls = http.request(victim.member, "GET", f"{conversation}/tool-calls").json()["items"]
    assert [call["tool"] for call in calls] == ["create_note"]
    ws = victim.workspace_id
    assert http.request(victim.owner, "GET", f"/v1/workspaces/{ws}").status_code == 200
    members = http.request(victim.owner, "GET", f"/v1/workspaces/{ws}/members").json()
    assert victim.member.user_id in {m["user_id"] for m in members["items"]}
    keys = http.request(victim.owner, "GET", f"/v1/workspaces/{ws}/api-keys").json()
    assert victim.api_key_id in {k["id"] for k in keys["items"]}
    sessions = http.request(victim.owner, "GET", "/v1/me/sessions").json()
    assert victim.session_id in {s["id"] for s in sessions["items"]}


@pytest.mark.parametrize(("route", "mix"), list(_cases()))
def test_foreign_ids_are_missing(
    http: Http,
    db: Database,
    victim: Tenant,
    attacker: Tenant,
    route: RouteInfo,
    mix: dict[str, str],
) -> None:
    for name in mix:
        assert name in victim.ids(), f"{route.label}: no victim object for {{{name}}}; add one"
    real = {n: (victim if owner == "victim" else attacker).ids()[n] for n, owner in mix.items()}
    unknown = {
        n: str(uuid.uuid4()) if owner == "victim" else attacker.ids()[n] for n, owner in mix.items()
    }
    body = body_for(route, attacker)
    before = state(db)

    baseline = http.request(attacker.owner, route.method, route.url(unknown), body)
    response = http.request(attacker.owner, route.method, route.url(real), body)

    assert state(db) == before, f"{route.label} changed the database"
    # Staff-only routes refuse a non-staff caller before looking anything up; all others must
    # treat a foreign object exactly as a missing one.
    expected = 403 if route.depends_on(get_staff_principal) else 404
    assert response.status_code == expected, response.text
    assert without_request_id(response) == without_request_id(baseline)


@pytest.mark.parametrize(("route", "insider"), list(_insider_cases()))
def test_members_of_the_same_workspace_cannot_reach_my_conversation(
    http: Http, db: Database, victim: Tenant, route: RouteInfo, insider: str
) -> None:
    """The member's conversation, attacked by the workspace's owner or another member: every
    route answers exactly as for a random id, and nothing changes."""
    caller = victim.owner if insider == "owner" else victim.peer
    body = body_for(route, victim)
    before = state(db)

    baseline = http.request(
        caller, route.method, route.url({"conversation_id": str(uuid.uuid4())}), body
    )
    response = http.request(caller, route.method, route.url(victim.ids()), body)

    assert state(db) == before, f"{route.label} changed the database"
    if _may_review_tool_calls(route, insider):
        assert response.status_code == 200, response.text
        calls = response.json()["items"]
        assert [(c["tool"], c["outcome"]) for c in calls] == [("create_note", "ok")]
        assert "Remember my plans" not in response.text  # what was said does not ride along
        return
    assert response.status_code == 404, response.text
    assert without_request_id(response) == without_request_id(baseline)


def test_insiders_do_not_see_the_conversation_listed(http: Http, victim: Tenant) -> None:
    """Listing is filtered the same way: the owner and the peer see none of the member's."""
    path = f"/v1/workspaces/{victim.workspace_id}/conversations?limit=100"
    for caller in (victim.owner, victim.peer):
        response = http.request(caller, "GET", path)
        assert response.status_code == 200, response.text
        assert response.json()["items"] == []
    mine = http.request(victim.member, "GET", path).json()["items"]
    assert [c["id"] for c in mine] == [victim.conversation_id]


# --- Ids in query strings and bodies --------------------------------------------------------


def test_listing_with_a_forged_cursor_shows_only_own_workspaces(
    http: Http, victim: Tenant, attacker: Tenant
) -> None:
    """The cursor is opaque but decodable; one crafted to start before everything (lists are
    newest first), or at the victim's own workspace, still pages over the caller's only."""
    future = datetime(3000, 1, 1, tzinfo=UTC)
    for cursor in (
        encode_cursor(future, uuid.UUID(int=2**128 - 1)),
        encode_cursor(future, uuid.UUID(victim.workspace_id)),
    ):
        response = http.request(attacker.owner, "GET", f"/v1/workspaces?cursor={cursor}")
        assert response.status_code == 200, response.text
        assert {w["id"] for w in response.json()["items"]} == {attacker.workspace_id}


def test_someone_elses_invitation_token_is_refused(
    http: Http, db: Database, victim: Tenant, attacker: Tenant
) -> None:
    """The only id a body takes today: an invitation token. Mallory holding a leaked link for
    someone else's address gets the same answer as a made-up token, and does not join."""
    invitee = unique_email("invitee")
    invited = http.request(
        victim.owner,
        "POST",
        f"/v1/workspaces/{victim.workspace_id}/invitations",
        {"email": invitee, "role": "admin"},
    )
    assert invited.status_code == 201, invited.text
    leaked = db.token_from_mail(invitee, "invitation")
    before = state(db)

    made_up = http.request(
        attacker.owner, "POST", "/v1/invitations/accept", {"token": secrets.token_urlsafe(32)}
    )
    response = http.request(attacker.owner, "POST", "/v1/invitations/accept", {"token": leaked})

    assert response.status_code == 422, response.text
    assert without_request_id(response)["code"] == "invalid_token"
    assert without_request_id(response) == without_request_id(made_up)
    assert state(db) == before
    get = http.request(attacker.owner, "GET", f"/v1/workspaces/{victim.workspace_id}")
    assert get.status_code == 404


def test_someone_elses_file_cannot_be_attached_by_id(
    http: Http, db: Database, victim: Tenant, attacker: Tenant
) -> None:
    """Files: a file id in a message body. The victim's file answers exactly like a
    made-up id, and nothing is stored (attachments are checked before the message is written)."""
    path = f"/v1/conversations/{attacker.conversation_id}/messages"
    before = state(db)

    made_up = http.request(
        attacker.member, "POST", path, {"content": "Read it", "file_ids": [str(uuid.uuid4())]}
    )
    response = http.request(
        attacker.member, "POST", path, {"content": "Read it", "file_ids": [victim.file_id]}
    )

    assert response.status_code == 404, response.text
    assert without_request_id(response) == without_request_id(made_up)
    assert state(db) == before
