"""Attacks on workspace API keys: storage, presentation, revocation, reach, scopes (C1, C2, C4)."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import pytest

from tests.auth.helpers import GUARDED_TABLES, KeyClient, keyed_hash, send
from tests.factories.users import create_actor, unique_email
from tests.factories.workspaces import add_member, create_api_key, create_workspace
from tests.problems import assert_problem
from tests.support import Actor, Database, Server

pytestmark = pytest.mark.checklist(
    "C1",
    "C2",
    red="accept a revoked, expired, mangled or non-Bearer key, let a key reach a session-only "
    "route or another workspace, or keep it working after its creator was removed, suspended "
    "or demoted",
)

ALL_SCOPES = [
    "workspace:read",
    "bots:read",
    "bots:write",
    "conversations:read",
    "conversations:write",
    "files:read",
    "files:write",
    "webhooks:manage",
]
KEY_READ_FIELDS = {
    "id",
    "workspace_id",
    "name",
    "prefix",
    "scopes",
    "created_at",
    "expires_at",
    "last_used_at",
    "revoked_at",
}


def keys_path(workspace_id: str) -> str:
    return f"/v1/workspaces/{workspace_id}/api-keys"


def key_count(db: Database) -> int:
    return int(db.scalar("SELECT count(*) FROM api_key"))


@pytest.fixture(scope="module")
def owner(server: Server, db: Database) -> Actor:
    """Owns two workspaces: ``home`` (first) and ``elsewhere`` (second)."""
    actor = create_actor(server, db, "key-owner")
    create_workspace(actor, "Home")
    create_workspace(actor, "Elsewhere")
    return actor


@pytest.fixture(scope="module")
def home(owner: Actor) -> str:
    return list(owner.workspaces)[0]


@pytest.fixture(scope="module")
def elsewhere(owner: Actor) -> str:
    return list(owner.workspaces)[1]


@pytest.fixture(scope="module")
def stranger(server: Server, db: Database) -> Actor:
    actor = create_actor(server, db, "key-stranger")
    create_workspace(actor, "Stranger's")
    return actor


@pytest.fixture(scope="module")
def broad_key(server: Server, owner: Actor, home: str) -> KeyClient:
    return KeyClient(server, create_api_key(owner, home, ALL_SCOPES)["key"])


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


class TestBearerOnly:
    def test_bearer_header_works(self, broad_key: KeyClient, home: str) -> None:
        assert broad_key.get(f"/v1/workspaces/{home}").status_code == 200

    @pytest.mark.parametrize(
        "placement",
        [
            pytest.param(lambda k: ("?api_key=" + k, {}), id="query-api_key"),
            pytest.param(lambda k: ("?access_token=" + k, {}), id="query-access_token"),
            pytest.param(lambda k: ("", {"Cookie": f"__Host-lp_session={k}"}), id="session-cookie"),
            pytest.param(lambda k: ("", {"X-API-Key": k}), id="x-api-key"),
            pytest.param(lambda k: ("", {"Authorization": k}), id="no-scheme"),
            pytest.param(lambda k: ("", {"Authorization": f"Token {k}"}), id="token-scheme"),
            pytest.param(
                lambda k: (
                    "",
                    {"Authorization": "Basic " + base64.b64encode(f"{k}:".encode()).decode()},
                ),
                id="basic",
            ),
        ],
    )
    def test_key_elsewhere_than_bearer_is_refused(
        self, server: Server, broad_key: KeyClient, home: str, placement: Any
    ) -> None:
        query, headers = placement(broad_key.key)
        response = send(server, "GET", f"/v1/workspaces/{home}{query}", headers=headers)
        assert_problem(response, 401, "unauthenticated")

    @pytest.mark.parametrize(
        "mangle",
        [
            pytest.param(lambda k: k[:-1] + ("A" if k[-1] != "A" else "B"), id="tampered"),
            pytest.param(lambda k: k[:12], id="prefix-only"),
            pytest.param(lambda k: k + "x" * 200, id="oversized"),
            pytest.param(lambda k: k.replace("lpk_", "", 1), id="no-prefix"),
        ],
    )
    def test_mangled_key_refused(
        self, server: Server, broad_key: KeyClient, home: str, mangle: Any
    ) -> None:
        response = KeyClient(server, mangle(broad_key.key)).get(f"/v1/workspaces/{home}")
        assert_problem(response, 401, "unauthenticated")

    def test_expired_key_refused(
        self, server: Server, db: Database, owner: Actor, home: str
    ) -> None:
        created = create_api_key(owner, home, ["workspace:read"])
        key = KeyClient(server, created["key"])
        assert key.get(f"/v1/workspaces/{home}").status_code == 200
        db.rows(
            "UPDATE api_key SET expires_at = now() - interval '1 second' "
            "WHERE id = %s RETURNING id",
            created["id"],
        )
        assert_problem(key.get(f"/v1/workspaces/{home}"), 401, "unauthenticated")
        assert_problem(key.get("/v1/workspaces"), 401, "unauthenticated")


# Routes a key must never reach, whatever its scopes: the person's account, workspace and member
# management, key management, invitations, platform admin.
SESSION_ONLY = [
    ("GET", "/v1/me", None),
    ("PATCH", "/v1/me", {"display_name": "Pwned"}),
    ("GET", "/v1/me/sessions", None),
    ("DELETE", "/v1/me/sessions/{random}", None),
    ("POST", "/v1/auth/logout", None),
    ("POST", "/v1/auth/logout-all", None),
    ("POST", "/v1/auth/password-change", {"current_password": "x", "new_password": "y" * 12}),
    ("POST", "/v1/workspaces", {"name": "Pwned"}),
    ("PATCH", "/v1/workspaces/{home}", {"name": "Pwned"}),
    ("DELETE", "/v1/workspaces/{home}", None),
    ("PATCH", "/v1/workspaces/{home}/members/{owner}", {"role": "viewer"}),
    ("DELETE", "/v1/workspaces/{home}/members/{owner}", None),
    ("POST", "/v1/workspaces/{home}/api-keys", {"name": "more", "scopes": ["workspace:read"]}),
    ("GET", "/v1/workspaces/{home}/api-keys", None),
    ("DELETE", "/v1/workspaces/{home}/api-keys/{key_id}", None),
    ("POST", "/v1/workspaces/{home}/invitations", {"email": "{email}", "role": "owner"}),
    ("POST", "/v1/invitations/accept", {"token": "A" * 43}),
    ("GET", "/v1/admin/users", None),
    ("GET", "/v1/admin/audit-events", None),
    ("POST", "/v1/admin/users/{owner}/suspend", None),
]


@pytest.fixture(scope="module")
def key_with_id(server: Server, owner: Actor, home: str) -> tuple[KeyClient, str]:
    created = create_api_key(owner, home, ALL_SCOPES)
    return KeyClient(server, created["key"]), str(created["id"])


class TestApiKeyReach:
    @pytest.mark.parametrize(
        ("method", "template", "payload"),
        [pytest.param(*route, id=f"{route[0]} {route[1]}") for route in SESSION_ONLY],
    )
    def test_session_only_routes_refuse_keys(
        self,
        db: Database,
        owner: Actor,
        home: str,
        key_with_id: tuple[KeyClient, str],
        method: str,
        template: str,
        payload: dict[str, Any] | None,
    ) -> None:
        key, key_id = key_with_id
        values = {"home": home, "owner": owner.user_id, "key_id": key_id, "random": uuid.uuid4()}
        path = template.format(**values)
        body = {
            k: v.format(email=unique_email()) if isinstance(v, str) else v
            for k, v in (payload or {}).items()
        }
        assert key.get(f"/v1/workspaces/{home}").status_code == 200  # settles last_used_at
        before = db.snapshot(*GUARDED_TABLES)

        response = key.request(method, path, json=body if payload else None)

        assert_problem(response, 403)
        assert response.json()["code"] == "session_required"
        assert db.snapshot(*GUARDED_TABLES) == before

    def test_other_workspace_of_the_same_creator_is_not_found(
        self, broad_key: KeyClient, home: str, elsewhere: str
    ) -> None:
        assert_problem(broad_key.get(f"/v1/workspaces/{elsewhere}"), 404, "not_found")
        assert_problem(broad_key.get(f"/v1/workspaces/{elsewhere}/members"), 404, "not_found")
        listed = broad_key.get("/v1/workspaces")
        assert [w["id"] for w in listed.json()["items"]] == [home]

    def test_workspace_read_scope_reads_workspace_and_members(
        self, server: Server, owner: Actor, home: str
    ) -> None:
        key = KeyClient(server, create_api_key(owner, home, ["workspace:read"])["key"])
        assert key.get(f"/v1/workspaces/{home}").json()["id"] == home
        members = key.get(f"/v1/workspaces/{home}/members")
        assert members.status_code == 200
        assert owner.email in {m["email"] for m in members.json()["items"]}

    def test_without_workspace_read_scope_the_workspace_is_missing(
        self, server: Server, owner: Actor, home: str
    ) -> None:
        key = KeyClient(server, create_api_key(owner, home, ["bots:read", "files:write"])["key"])
        assert_problem(key.get(f"/v1/workspaces/{home}"), 404, "not_found")
        assert_problem(key.get(f"/v1/workspaces/{home}/members"), 404, "not_found")
        assert key.get("/v1/workspaces").json()["items"] == []


class TestKeyFollowsItsCreator:
    @pytest.fixture
    def team(self, server: Server, db: Database) -> tuple[Actor, str, Actor, KeyClient]:
        """An owner, their workspace, an admin there, and a broad key the admin created."""
        boss = create_actor(server, db, "team-owner")
        workspace_id = create_workspace(boss, "Team")
        admin = add_member(server, db, boss, workspace_id, "admin")
        key = KeyClient(server, create_api_key(admin, workspace_id, ALL_SCOPES)["key"])
        assert key.get(f"/v1/workspaces/{workspace_id}").json()["role"] == "admin"
        return boss, workspace_id, admin, key

    def test_creator_removed_from_workspace(
        self, team: tuple[Actor, str, Actor, KeyClient]
    ) -> None:
        boss, workspace_id, admin, key = team
        assert (
            boss.delete(f"/v1/workspaces/{workspace_id}/members/{admin.user_id}").status_code == 204
        )
        assert_problem(key.get(f"/v1/workspaces/{workspace_id}"), 401, "unauthenticated")

    def test_creator_suspended(
        self, staff: Actor, team: tuple[Actor, str, Actor, KeyClient]
    ) -> None:
        _, workspace_id, admin, key = team
        assert staff.post(f"/v1/admin/users/{admin.user_id}/suspend").status_code == 200
        assert_problem(key.get(f"/v1/workspaces/{workspace_id}"), 401, "unauthenticated")

    def test_creator_demoted_to_viewer_limits_the_key(
        self, team: tuple[Actor, str, Actor, KeyClient]
    ) -> None:
        boss, workspace_id, admin, key = team
        demoted = boss.patch(
            f"/v1/workspaces/{workspace_id}/members/{admin.user_id}", json={"role": "viewer"}
        )
        assert demoted.status_code == 200, demoted.text

        assert key.get(f"/v1/workspaces/{workspace_id}").json()["role"] == "viewer"
        assert [w["role"] for w in key.get("/v1/workspaces").json()["items"]] == ["viewer"]
        # And as a viewer the creator could not have minted such a key in the first place.
        again = admin.post(keys_path(workspace_id), json={"name": "again", "scopes": ALL_SCOPES})
        assert_problem(again, 403, "forbidden")
