"""What an API key reaches (C2): the bearer header only, never a session-only route, only its own
workspace and scopes, and never more than its creator may do today.
"""

from __future__ import annotations

import base64
import uuid
from typing import Any

import pytest

from tests.api_keys.keys import ALL_SCOPES, keys_path
from tests.auth.helpers import GUARDED_TABLES, KeyClient, send
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
