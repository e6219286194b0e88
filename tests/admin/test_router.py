"""Attacks on platform admin routes and the audit trail they expose (C1, C2, C4, C9)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.auth.helpers import (
    FOREIGN_ORIGIN,
    KeyClient,
    another_session,
    cookie_header,
    is_signed_in,
    send,
)
from tests.factories.mfa import keep_fresh
from tests.factories.users import create_actor, login, strong_password, unique_email
from tests.factories.workspaces import add_member, create_api_key, create_workspace
from tests.problems import assert_problem
from tests.support import Actor, Anonymous, Database, Server, run_cli, session_cookie

USERS = "/v1/admin/users"
EVENTS = "/v1/admin/audit-events"
ADMIN_USER_FIELDS = {
    "id",
    "email",
    "display_name",
    "email_verified",
    "is_staff",
    "suspended_at",
    "created_at",
}
ADMIN_ROUTES = [
    pytest.param("GET", USERS, id="list-users"),
    pytest.param("GET", EVENTS, id="audit-events"),
    pytest.param("POST", USERS + "/{target}/suspend", id="suspend"),
]


def is_suspended(db: Database, user_id: str) -> bool:
    return db.scalar("SELECT suspended_at FROM user_account WHERE id = %s", user_id) is not None


@pytest.fixture(scope="module")
def owner(server: Server, db: Database) -> Actor:
    """Owns a workspace: the most powerful non-staff principal there is."""
    actor = create_actor(server, db, "admin-owner")
    create_workspace(actor, "Owned")
    return actor


@pytest.fixture(scope="module")
def target(server: Server, db: Database) -> Actor:
    """Someone the non-staff callers would like to suspend (nobody manages to)."""
    return create_actor(server, db, "admin-target")


@pytest.fixture(scope="module")
def staff_with_key(server: Server, db: Database) -> tuple[Actor, KeyClient]:
    """A second staff member (not the shared one) holding a broad key of their own workspace."""
    email, password = unique_email("staff-key"), strong_password()
    created = run_cli(
        server.env, "create-user", "--email", email, "--admin", "--verified", stdin=password + "\n"
    )
    assert created.returncode == 0, created.stderr
    actor = login(server, email, password)
    workspace_id = create_workspace(actor)
    key = create_api_key(actor, workspace_id, ["workspace:read", "bots:write", "webhooks:manage"])
    return actor, KeyClient(server, key["key"])


@pytest.mark.checklist(
    "C1",
    red="let get_staff_principal accept a workspace owner, an API key (even staff's) or a cross-"
    "site cookie write",
)
class TestAdminAccess:
    @pytest.mark.parametrize(("method", "template"), ADMIN_ROUTES)
    def test_anonymous(
        self, server: Server, db: Database, target: Actor, method: str, template: str
    ) -> None:
        path = template.format(target=target.user_id)
        response = send(server, method, path, headers={"Origin": server.origin})
        assert_problem(response, 401, "unauthenticated")
        assert not is_suspended(db, target.user_id)

    @pytest.mark.parametrize("role", ["owner", "admin"])
    @pytest.mark.parametrize(("method", "template"), ADMIN_ROUTES)
    def test_workspace_roles_are_not_staff(
        self,
        server: Server,
        db: Database,
        owner: Actor,
        target: Actor,
        role: str,
        method: str,
        template: str,
    ) -> None:
        caller = owner
        if role == "admin":
            caller = add_member(server, db, owner, next(iter(owner.workspaces)), "admin")
        response = caller.request(method, template.format(target=target.user_id))
        assert_problem(response, 403, "staff_only")
        assert not is_suspended(db, target.user_id)

    @pytest.mark.parametrize(("method", "template"), ADMIN_ROUTES)
    def test_api_key_even_of_staff_is_refused(
        self,
        db: Database,
        target: Actor,
        staff_with_key: tuple[Actor, KeyClient],
        method: str,
        template: str,
    ) -> None:
        _, key = staff_with_key
        response = key.request(method, template.format(target=target.user_id))
        assert_problem(response, 403, "session_required")
        assert not is_suspended(db, target.user_id)

    @pytest.mark.parametrize("path", [USERS, EVENTS])
    def test_staff_session(self, staff: Actor, path: str) -> None:
        assert staff.get(path).status_code == 200

    def test_staff_cookie_from_a_foreign_page_cannot_suspend(
        self, server: Server, db: Database, staff: Actor, target: Actor
    ) -> None:
        response = send(
            server,
            "POST",
            f"{USERS}/{target.user_id}/suspend",
            headers={**cookie_header(str(staff.cookie)), "Origin": FOREIGN_ORIGIN},
        )
        assert_problem(response, 403, "csrf_origin_mismatch")
        assert not is_suspended(db, target.user_id)


class TestListUsers:
    def test_paginated_newest_first(self, server: Server, db: Database, staff: Actor) -> None:
        for _ in range(3):
            create_actor(server, db, "page")
        first = staff.get(USERS, params={"limit": 2})
        assert first.status_code == 200
        page1 = first.json()
        assert len(page1["items"]) == 2
        assert page1["next_cursor"]
        page2 = staff.get(USERS, params={"limit": 2, "cursor": page1["next_cursor"]}).json()
        ids = [u["id"] for u in page1["items"] + page2["items"]]
        assert len(ids) == len(set(ids)) == 4
        created = [u["created_at"] for u in page1["items"] + page2["items"]]
        assert created == sorted(created, reverse=True)

    @pytest.mark.parametrize("limit", [0, 101, 1000, -1])
    def test_limit_is_capped(self, staff: Actor, limit: int) -> None:
        assert_problem(staff.get(USERS, params={"limit": limit}), 422, "validation_failed")

    @pytest.mark.checklist(
        "C4",
        red="add the password hash or any other field beyond the admin item schema to the user "
        "list",
    )
    def test_items_carry_no_secrets(self, staff: Actor) -> None:
        response = staff.get(USERS, params={"limit": 100})
        assert all(set(item) == ADMIN_USER_FIELDS for item in response.json()["items"])
        assert "$argon2" not in response.text

    def test_email_prefix_is_a_prefix_not_a_pattern(self, staff: Actor, target: Actor) -> None:
        exact = staff.get(USERS, params={"email_prefix": target.email[:20]}).json()["items"]
        assert [u["email"] for u in exact] == [target.email]
        for wildcard in ("%", "_", "%admin-target%"):
            found = staff.get(USERS, params={"email_prefix": wildcard})
            assert found.status_code == 200
            # Taken literally: only addresses that really start with these characters (other
            # suites, schemathesis included, may have signed such addresses up in this database).
            emails = [u["email"] for u in found.json()["items"]]
            assert all(email.startswith(wildcard) for email in emails), wildcard
            assert target.email not in emails

    @pytest.mark.checklist("C9", red="stop auditing the staff user listing")
    def test_listing_is_audited(self, db: Database, staff: Actor) -> None:
        response = staff.get(USERS)
        assert db.rows(
            "SELECT action, actor_user_id::text FROM audit_event WHERE request_id = %s",
            response.headers["x-request-id"],
        ) == [("admin.users_listed", staff.user_id)]


@pytest.mark.checklist(
    "C1",
    red="keep a suspended user's sessions or API keys working (app/admin/service.py)",
)
class TestSuspendUser:
    def test_ends_every_session_and_key_at_once(
        self, server: Server, db: Database, staff: Actor
    ) -> None:
        victim = create_actor(server, db, "suspend")
        laptop = another_session(victim)
        workspace_id = create_workspace(victim)
        key = KeyClient(server, create_api_key(victim, workspace_id, ["workspace:read"])["key"])
        assert key.get(f"/v1/workspaces/{workspace_id}").status_code == 200

        response = staff.post(f"{USERS}/{victim.user_id}/suspend")

        assert response.status_code == 200, response.text
        assert response.json()["suspended_at"] is not None
        assert not is_signed_in(victim)
        assert not is_signed_in(laptop)
        assert_problem(key.get(f"/v1/workspaces/{workspace_id}"), 401, "unauthenticated")
        relogin = Anonymous(server).post(
            "/v1/auth/login", json={"email": victim.email, "password": victim.password}
        )
        assert_problem(relogin, 401, "invalid_credentials")
        assert (
            db.scalar(
                "SELECT count(*) FROM user_session WHERE user_id = %s AND revoked_at IS NULL",
                victim.user_id,
            )
            == 0
        )
        assert db.rows(
            "SELECT action, actor_user_id::text, target_id::text FROM audit_event "
            "WHERE request_id = %s",
            response.headers["x-request-id"],
        ) == [("admin.user_suspended", staff.user_id, victim.user_id)]

    def test_cannot_suspend_self(self, db: Database, staff: Actor) -> None:
        response = staff.post(f"{USERS}/{staff.user_id}/suspend")
        assert_problem(response, 409, "self_suspension")
        assert not is_suspended(db, staff.user_id)
        assert is_signed_in(staff)

    def test_unknown_user(self, staff: Actor) -> None:
        assert_problem(staff.post(f"{USERS}/{uuid.uuid4()}/suspend"), 404, "not_found")


@dataclass
class Story:
    """What happened in the audited scenario: request ids to find, secrets that must not leak."""

    request_ids: dict[str, str] = field(default_factory=dict)
    secrets: list[str] = field(default_factory=list)
    workspace_id: str = ""
    owner_id: str = ""
    member_id: str = ""
    emails: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def story(server: Server, db: Database, staff_account: Actor) -> Story:
    staff = keep_fresh(staff_account)
    told = Story()
    owner = create_actor(server, db, "story-owner")
    told.owner_id, told.emails = owner.user_id, [owner.email]
    told.secrets += [owner.password, str(owner.cookie)]

    anon = Anonymous(server)
    guess = "guess-" + strong_password()
    failed = anon.post("/v1/auth/login", json={"email": owner.email, "password": guess})
    told.request_ids["login_failed"] = failed.headers["x-request-id"]
    ok = anon.post("/v1/auth/login", json={"email": owner.email, "password": owner.password})
    told.request_ids["login_ok"] = ok.headers["x-request-id"]
    told.secrets += [guess, session_cookie(ok)]

    told.workspace_id = create_workspace(owner, "Story")
    member = add_member(server, db, owner, told.workspace_id, "member")
    told.member_id = member.user_id
    told.emails.append(member.email)
    told.secrets += [member.password, str(member.cookie)]
    promoted = owner.patch(
        f"/v1/workspaces/{told.workspace_id}/members/{member.user_id}", json={"role": "admin"}
    )
    told.request_ids["role_changed"] = promoted.headers["x-request-id"]

    created = owner.post(
        f"/v1/workspaces/{told.workspace_id}/api-keys",
        json={"name": "story", "scopes": ["workspace:read"]},
    )
    told.request_ids["key_created"] = created.headers["x-request-id"]
    key = created.json()
    assert KeyClient(server, key["key"]).get("/v1/workspaces").status_code == 200
    revoked = owner.delete(f"/v1/workspaces/{told.workspace_id}/api-keys/{key['id']}")
    told.request_ids["key_revoked"] = revoked.headers["x-request-id"]
    told.secrets += [key["key"], key["key"][12:]]

    assert anon.post("/v1/auth/password-reset", json={"email": member.email}).status_code == 202
    told.secrets.append(db.token_from_mail(member.email, "password_reset"))
    told.secrets.append(db.token_from_mail(member.email, "invitation"))
    told.secrets.append(db.token_from_mail(owner.email, "verify_email"))

    suspended = staff.post(f"{USERS}/{member.user_id}/suspend")
    told.request_ids["suspended"] = suspended.headers["x-request-id"]
    assert all(r.status_code < 300 for r in (ok, promoted, created, revoked, suspended))
    assert failed.status_code == 401
    return told


@pytest.mark.checklist(
    "C9",
    red="stop recording who did what from which IP, write a token or password into an audit event"
    " or the log, or leave audit reads unaudited",
)
class TestListAuditEvents:
    EXPECTED: dict[str, tuple[str, str, str, bool]] = {
        # step: (action, outcome, actor ("owner"/"member"/"staff"), has workspace)
        "login_failed": ("auth.login", "failure", "owner", False),
        "login_ok": ("auth.login", "success", "owner", False),
        "role_changed": ("member.role_changed", "success", "owner", True),
        "key_created": ("api_key.created", "success", "owner", True),
        "key_revoked": ("api_key.revoked", "success", "owner", True),
        "suspended": ("admin.user_suspended", "success", "staff", False),
    }

    def test_records_who_what_where_from_which_ip(self, staff: Actor, story: Story) -> None:
        actors = {"owner": story.owner_id, "staff": staff.user_id}
        for step, (action, outcome, actor, in_workspace) in self.EXPECTED.items():
            response = staff.get(EVENTS, params={"action": action, "limit": 100})
            assert response.status_code == 200, response.text
            matching = [
                e for e in response.json()["items"] if e["request_id"] == story.request_ids[step]
            ]
            assert len(matching) == 1, (step, story.request_ids[step])
            event = matching[0]
            assert event["outcome"] == outcome, step
            assert event["actor_user_id"] == actors[actor], step
            assert event["client_ip"] == "127.0.0.1", step
            assert event["workspace_id"] == (story.workspace_id if in_workspace else None), step
        role_change = self._event(staff, "member.role_changed", story.request_ids["role_changed"])
        assert role_change["target_id"] == story.member_id
        assert role_change["details"] == {"from": "member", "to": "admin"}

    def test_no_secrets_in_audit_trail_or_server_log(
        self, server: Server, db: Database, staff: Actor, story: Story
    ) -> None:
        trail = repr(db.rows("SELECT * FROM audit_event"))
        served = staff.get(EVENTS, params={"limit": 100}).text
        log = server.log_text()
        assert len(story.secrets) >= 10
        for secret in story.secrets:
            assert secret not in trail
            assert secret not in served
            assert secret not in log
        for email in story.emails:  # the trail names people by id, never by address
            assert email not in trail

    @pytest.mark.parametrize(
        "params",
        [{"limit": 1000}, {"limit": 0}, {"action": "auth.login' OR '1'='1"}, {"action": "x" * 61}],
        ids=["limit-1000", "limit-0", "action-injection", "action-too-long"],
    )
    def test_invalid_query_refused(self, staff: Actor, params: dict[str, Any]) -> None:
        assert_problem(staff.get(EVENTS, params=params), 422, "validation_failed")

    def test_reading_is_audited(self, db: Database, staff: Actor) -> None:
        response = staff.get(EVENTS, params={"limit": 1})
        assert (
            db.scalar(
                "SELECT action FROM audit_event WHERE request_id = %s",
                response.headers["x-request-id"],
            )
            == "admin.audit_read"
        )

    @staticmethod
    def _event(staff: Actor, action: str, request_id: str) -> dict[str, Any]:
        items = staff.get(EVENTS, params={"action": action, "limit": 100}).json()["items"]
        return next(e for e in items if e["request_id"] == request_id)
