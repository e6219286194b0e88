"""C2 over HTTP with row-level security switched off: the application alone stops ID swapping.

The BOLA matrix of tests/attack/test_bola.py runs here a second time, unchanged (its tests and
fixtures are imported, so their assertions are the same code), against a real server whose
database has RLS disabled on every table (``rls_off_db``): a foreign id on every route answers
exactly like a random one and changes nothing, conversations stay private to their user, lists
show only the caller's. Without RLS underneath, only the services and repositories stop it.

Two cases the matrix cannot build are added: a *former* member's own conversation in the
workspace that removed them, and an API key of one workspace aimed at its creator's conversation
in another. Both are the caller's own rows by user id; only the workspace check refuses them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.identity.scopes import Scope
from tests.attack.bola_checks import (
    test_foreign_ids_are_missing,
    test_insiders_do_not_see_the_conversation_listed,
    test_listing_with_a_forged_cursor_shows_only_own_workspaces,
    test_members_of_the_same_workspace_cannot_reach_my_conversation,
    test_someone_elses_file_cannot_be_attached_by_id,
    test_someone_elses_invitation_token_is_refused,
    test_the_victims_ids_are_live,
)
from tests.attack.bola_world import (
    Http,
    Tenant,
    _conversation_routes,
    attacker,
    body_for,
    http,
    state,
    victim,
)
from tests.factories.bots import create_bot
from tests.factories.conversations import send_ok, start_conversation
from tests.factories.workspaces import add_member, create_api_key, create_workspace
from tests.route_table import RouteInfo, without_request_id
from tests.support import Database, Server, Stub, base_env, start_server, stop_server

RED = (
    "delete (RLS being off here) Conversation.user_id == principal.user_id from"
    " ConversationRepository.readable_statement, its workspace condition, or any service's"
    " object-level check"
)
pytestmark = pytest.mark.checklist("C2", red=RED)

# The matrix, imported: pytest collects these here as well, with this module's db and server.
REUSED = (
    http,
    victim,
    attacker,
    test_the_victims_ids_are_live,
    test_foreign_ids_are_missing,
    test_members_of_the_same_workspace_cannot_reach_my_conversation,
    test_insiders_do_not_see_the_conversation_listed,
    test_listing_with_a_forged_cursor_shows_only_own_workspaces,
    test_someone_elses_invitation_token_is_refused,
    test_someone_elses_file_cannot_be_attached_by_id,
)


@pytest.fixture(scope="module")
def db(rls_off_db: Database) -> Database:
    """This module's ``db``: the scratch database with RLS off (tests/isolation/conftest.py)."""
    return rls_off_db


@pytest.fixture(scope="module")
def server(db: Database, stub: Stub, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The real service on that database, configured like the shared one (tests/conftest.py).

    Started by hand, not by ``server_factory``: that session fixture depends on the session's
    ``db``, which this module overrides.
    """
    log_path = Path(tmp_path_factory.mktemp("server-rls-off")) / "server.log"
    env = base_env(db, OPENAI_BASE_URL=stub.base_url, OUTBOUND_DEV_ALLOWED_ADDRESSES="127.0.0.2")
    srv = start_server(env, log_path)
    yield srv
    stop_server(srv)


def test_this_server_really_runs_without_rls(db: Database, server: Server) -> None:
    on = db.rows(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND (c.relrowsecurity OR c.relforcerowsecurity)"
    )
    assert on == []
    assert server.env["DATABASE_URL"] == db.app


def _attack(
    http: Http, headers: dict[str, str], route: RouteInfo, conversation_id: str, body: Any
) -> tuple[httpx.Response, httpx.Response]:
    """The route with a random id (the baseline), then with ``conversation_id``."""
    http.client.cookies.clear()
    responses = [
        http.client.request(
            route.method, route.url({"conversation_id": target}), headers=headers, json=body
        )
        for target in (str(uuid.uuid4()), conversation_id)
    ]
    return responses[0], responses[1]


@pytest.fixture(scope="module")
def former_member(server: Server, db: Database, victim: Tenant) -> tuple[dict[str, str], str]:
    """A member who chatted in the victim's workspace and was then removed (the conversation
    stays, still theirs by user id). Returns their request headers and that conversation's id."""
    leaver = add_member(server, db, victim.owner, victim.workspace_id, "member")
    conversation = start_conversation(leaver, victim.bot_id, title="before I left")
    send_ok(leaver, conversation["id"], "Remember this.")
    removed = victim.owner.delete(f"/v1/workspaces/{victim.workspace_id}/members/{leaver.user_id}")
    assert removed.status_code == 204, removed.text
    return leaver.headers(), str(conversation["id"])


@pytest.fixture(scope="module")
def other_workspace_key(attacker: Tenant) -> tuple[dict[str, str], str]:
    """An all-scopes key of the attacker's workspace, and her own conversation in a second
    workspace of hers that the key does not reach."""
    owner = attacker.owner
    second = create_workspace(owner, name="Mallory's second studio")
    bot = create_bot(owner, second)
    conversation = start_conversation(owner, bot["id"], title="elsewhere")
    send_ok(owner, conversation["id"], "Remember this too.")
    key = create_api_key(owner, attacker.workspace_id, [scope.value for scope in Scope])
    headers = {"Authorization": f"Bearer {key['key']}"}
    return headers, str(conversation["id"])


@pytest.mark.parametrize("route", _conversation_routes(), ids=lambda route: route.label)
@pytest.mark.parametrize("case", ["former_member", "other_workspace_key"])
def test_own_conversation_outside_the_callers_workspaces_is_missing(
    request: pytest.FixtureRequest,
    http: Http,
    db: Database,
    attacker: Tenant,
    route: RouteInfo,
    case: str,
) -> None:
    """Sending into (or reading, renaming, deleting) one's own conversation in a workspace the
    credential does not reach answers exactly like a random id, and stores nothing."""
    headers, conversation_id = request.getfixturevalue(case)
    body = body_for(route, attacker)
    before = state(db)

    baseline, response = _attack(http, headers, route, conversation_id, body)

    assert state(db) == before, f"{route.label} changed the database"
    assert response.status_code == 404, response.text
    assert without_request_id(response) == without_request_id(baseline)
