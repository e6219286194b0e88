"""Attacks on workspace API keys: storage, presentation, listing, revocation (C1, C2, C4); reach
and scopes are in test_key_reach.py."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.api_keys.keys import ALL_SCOPES, KEY_READ_FIELDS, key_count, keys_path
from tests.auth.helpers import KeyClient, keyed_hash, send
from tests.factories.workspaces import add_member, create_api_key
from tests.problems import assert_problem
from tests.support import Actor, Database, Server

pytestmark = pytest.mark.checklist(
    "C1",
    "C2",
    red="accept a revoked, expired, mangled or non-Bearer key, let a key reach a session-only "
    "route or another workspace, or keep it working after its creator was removed, suspended "
    "or demoted",
)


class TestCreateApiKey:
    @pytest.mark.checklist(
        "C4",
        red="store the API key itself instead of its keyed hash, or return it again after creation",
    )
    def test_shown_once_and_stored_as_a_keyed_hash(
        self, server: Server, db: Database, owner: Actor, home: str
    ) -> None:
        created = owner.post(keys_path(home), json={"name": "deploy", "scopes": ["workspace:read"]})
        assert created.status_code == 201, created.text
        body = created.json()
        key = body["key"]
        assert set(body) == KEY_READ_FIELDS | {"key"}
        assert key.startswith("lpk_")
        assert len(key) >= 40
        assert body["prefix"] == key[:12]

        listed = owner.get(keys_path(home))
        assert listed.status_code == 200
        item = next(i for i in listed.json()["items"] if i["id"] == body["id"])
        assert set(item) == KEY_READ_FIELDS
        assert item["prefix"] == body["prefix"]
        assert key not in listed.text
        assert key[12:] not in listed.text

        row = db.rows("SELECT * FROM api_key WHERE id = %s", body["id"])
        assert key not in repr(row)
        assert key[12:] not in repr(row)
        stored = db.scalar("SELECT key_hash FROM api_key WHERE id = %s", body["id"])
        assert bytes(stored) == keyed_hash(server, "api_key", key)

    def test_audited(self, db: Database, owner: Actor, home: str) -> None:
        created = owner.post(keys_path(home), json={"name": "audit", "scopes": ["bots:read"]})
        assert created.status_code == 201
        rows = db.rows(
            "SELECT action, actor_user_id::text, workspace_id::text, target_id::text, "
            "client_ip, details::text FROM audit_event WHERE request_id = %s",
            created.headers["x-request-id"],
        )
        assert rows == [
            (
                "api_key.created",
                owner.user_id,
                home,
                created.json()["id"],
                "127.0.0.1",
                '{"scopes": ["bots:read"]}',
            )
        ]

    @pytest.mark.parametrize("role", ["member", "viewer"])
    def test_role_without_key_management_forbidden(
        self, server: Server, db: Database, owner: Actor, home: str, role: str
    ) -> None:
        member = add_member(server, db, owner, home, role)
        before = key_count(db)
        response = member.post(keys_path(home), json={"name": "mine", "scopes": ALL_SCOPES})
        assert_problem(response, 403, "forbidden")
        assert key_count(db) == before

    def test_other_workspace_is_not_found(self, db: Database, stranger: Actor, home: str) -> None:
        before = key_count(db)
        response = stranger.post(keys_path(home), json={"name": "x", "scopes": ["workspace:read"]})
        assert_problem(response, 404, "not_found")
        assert key_count(db) == before

    @pytest.mark.parametrize(
        "payload",
        [
            {"name": "x", "scopes": ["admin"]},
            {"name": "x", "scopes": []},
            {"name": "x", "scopes": ["workspace:read"], "expires_in_days": 0},
            {"name": "x", "scopes": ["workspace:read"], "expires_in_days": 366},
            {"name": "x", "scopes": ["workspace:read"], "workspace_id": str(uuid.uuid4())},
            {"name": "x", "scopes": ["workspace:read"], "created_by_id": str(uuid.uuid4())},
            {"name": "x", "scopes": ["workspace:read"], "key": "lpk_chosen_by_the_attacker_0000"},
            {"name": "\x00", "scopes": ["workspace:read"]},
        ],
        ids=[
            "unknown-scope",
            "no-scope",
            "expiry-0",
            "expiry-366",
            "workspace_id",
            "created_by_id",
            "chosen-key",
            "control-char-name",
        ],
    )
    def test_invalid_input_rejected(
        self, db: Database, owner: Actor, home: str, payload: dict[str, Any]
    ) -> None:
        before = key_count(db)
        assert_problem(owner.post(keys_path(home), json=payload), 422, "validation_failed")
        assert key_count(db) == before


class TestListApiKeys:
    def test_anonymous(self, server: Server, home: str) -> None:
        assert_problem(send(server, "GET", keys_path(home)), 401, "unauthenticated")

    def test_other_workspace(self, stranger: Actor, home: str) -> None:
        assert_problem(stranger.get(keys_path(home)), 404, "not_found")

    def test_viewer_forbidden(self, server: Server, db: Database, owner: Actor, home: str) -> None:
        viewer = add_member(server, db, owner, home, "viewer")
        assert_problem(viewer.get(keys_path(home)), 403, "forbidden")


class TestRevokeApiKey:
    def test_revoked_key_stops_at_once(
        self, server: Server, db: Database, owner: Actor, home: str
    ) -> None:
        created = create_api_key(owner, home, ["workspace:read"])
        key = KeyClient(server, created["key"])
        assert key.get(f"/v1/workspaces/{home}").status_code == 200

        revoked = owner.delete(f"{keys_path(home)}/{created['id']}")

        assert revoked.status_code == 204
        assert_problem(key.get(f"/v1/workspaces/{home}"), 401, "unauthenticated")
        assert (
            db.scalar(
                "SELECT action FROM audit_event WHERE request_id = %s",
                revoked.headers["x-request-id"],
            )
            == "api_key.revoked"
        )

    def test_id_swap_is_not_found_and_key_survives(
        self, server: Server, db: Database, owner: Actor, home: str, stranger: Actor
    ) -> None:
        victim = create_api_key(owner, home, ["workspace:read"])
        theirs = next(iter(stranger.workspaces))
        before = db.snapshot("api_key")

        attempts = [
            stranger.delete(f"{keys_path(theirs)}/{victim['id']}"),  # own path, foreign key id
            stranger.delete(f"{keys_path(home)}/{victim['id']}"),  # foreign path
        ]

        for response in attempts:
            assert_problem(response, 404, "not_found")
        assert db.snapshot("api_key") == before
        assert KeyClient(server, victim["key"]).get(f"/v1/workspaces/{home}").status_code == 200
