"""Step-up and the staff policy, attacked over HTTP (C1).

A factor-enrolled account whose session last presented its factor longer ago than
STEP_UP_MAX_AGE_SECONDS is refused every step-up action with 401 ``step_up_required`` and
nothing changes; after ``POST /v1/auth/step-up`` the same call succeeds. The session's age is
moved in the database (the server's clock is real).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories.mfa import enrol_totp, step_up
from tests.factories.passkeys import register_passkey, step_up_with_passkey
from tests.factories.users import login, strong_password, unique_email
from tests.factories.workspaces import add_member, create_workspace
from tests.support import Actor, Database, Server, run_cli

WEBHOOK = {"url": "http://127.0.0.2:9/hook", "event_types": ["member.added"]}
WATCHED = (
    "api_key",
    "webhook_endpoint",
    "workspace_membership",
    "user_account",
    "user_session",
    "totp_factor",
    "recovery_code",
)


def _age_factor(db: Database, actor: Actor) -> None:
    with db.connect() as conn:
        conn.execute(
            "UPDATE user_session SET factor_verified_at = now() - interval '11 minutes' "
            "WHERE user_id = %s",
            (actor.user_id,),
        )


def _snapshot(db: Database) -> dict[str, Any]:
    return db.snapshot(*WATCHED)


# name -> (method, path template, body); None body: no body; PASSWORD: a password change body.
PASSWORD = {"_": "password change"}
ACTIONS: dict[str, tuple[str, str, dict[str, Any] | None]] = {
    "create api key": (
        "POST",
        "/v1/workspaces/{ws}/api-keys",
        {"name": "ci", "scopes": ["bots:read"]},
    ),
    "create webhook": ("POST", "/v1/workspaces/{ws}/webhook-endpoints", WEBHOOK),
    "change webhook": (
        "PATCH",
        "/v1/webhook-endpoints/{endpoint}",
        {"url": "http://127.0.0.2:9/other"},
    ),
    "rotate webhook secret": ("POST", "/v1/webhook-endpoints/{endpoint}/rotate-secret", None),
    "change role": ("PATCH", "/v1/workspaces/{ws}/members/{member}", {"role": "viewer"}),
    "change password": ("POST", "/v1/auth/password-change", PASSWORD),
}


@pytest.fixture
def enrolled_owner(server: Server, db: Database, alice: Actor) -> tuple[Actor, dict[str, str]]:
    """Alice owns a workspace with a member and a webhook endpoint, then enrols TOTP."""
    workspace = create_workspace(alice)
    member = add_member(server, db, alice, workspace, "member")
    endpoint = alice.post(f"/v1/workspaces/{workspace}/webhook-endpoints", json=WEBHOOK)
    assert endpoint.status_code == 201, endpoint.text
    enrol_totp(alice)
    return alice, {"ws": workspace, "member": member.user_id, "endpoint": endpoint.json()["id"]}


@pytest.mark.checklist("C1", red="return early in require_fresh_factor")
@pytest.mark.parametrize("name", list(ACTIONS))
def test_each_step_up_action_needs_a_fresh_factor(
    db: Database, enrolled_owner: tuple[Actor, dict[str, str]], name: str
) -> None:
    owner, ids = enrolled_owner
    method, template, body = ACTIONS[name]
    path = template.format(**ids)
    payload = body
    if body is PASSWORD:
        payload = {"current_password": owner.password, "new_password": strong_password()}
    _age_factor(db, owner)
    before = _snapshot(db)
    refused = owner.request(method, path, json=payload)
    assert refused.status_code == 401, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == "step_up_required"
    assert _snapshot(db) == before
    step_up(owner)
    allowed = owner.request(method, path, json=payload)
    assert allowed.status_code in (200, 201, 204), allowed.text


@pytest.mark.checklist("C1", red="drop the factor_fresh check in check_second_factor_policy_change")
@pytest.mark.parametrize("required", [True, False])
def test_the_workspace_factor_policy_needs_a_fresh_factor(
    db: Database, enrolled_owner: tuple[Actor, dict[str, str]], required: bool
) -> None:
    """Turning the members' factor requirement on (or off) is a dangerous action: an owner whose
    factor is stale is refused and nothing changes; a rename alone is not stepped up."""
    owner, ids = enrolled_owner
    path = f"/v1/workspaces/{ids['ws']}"
    if not required:
        assert owner.patch(path, json={"require_second_factor": True}).status_code == 200
    _age_factor(db, owner)
    before = db.snapshot("workspace", *WATCHED)
    refused = owner.patch(path, json={"name": "renamed", "require_second_factor": required})
    assert refused.status_code == 401, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == "step_up_required"
    assert db.snapshot("workspace", *WATCHED) == before
    renamed = owner.patch(path, json={"name": "renamed"})
    assert renamed.status_code == 200, renamed.text
    step_up(owner)
    allowed = owner.patch(path, json={"require_second_factor": required})
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["require_second_factor"] is required
    assert (
        db.scalar("SELECT require_second_factor FROM workspace WHERE id = %s", ids["ws"])
        is required
    )


@pytest.mark.checklist("C1", red="skip the fresh check for staff in get_staff_principal")
def test_admin_routes_need_the_staff_members_fresh_factor(
    server: Server, db: Database, alice: Actor
) -> None:
    staff = _new_staff(server)
    enrol_totp(staff)
    enrol_totp(alice)
    _age_factor(db, staff)
    before = _snapshot(db)
    for method, path in (
        ("GET", "/v1/admin/users"),
        ("POST", f"/v1/admin/users/{alice.user_id}/second-factors/reset"),
    ):
        refused = staff.request(method, path)
        assert refused.status_code == 401, refused.text
        assert refused.json()["code"] == "step_up_required"
    assert _snapshot(db) == before
    step_up(staff)
    reset = staff.post(f"/v1/admin/users/{alice.user_id}/second-factors/reset")
    assert reset.status_code == 204, reset.text
    assert (
        db.scalar("SELECT second_factor_at FROM user_account WHERE id = %s", alice.user_id) is None
    )
    assert not db.scalar("SELECT count(*) FROM totp_factor WHERE user_id = %s", alice.user_id)
    assert (
        db.scalar(
            "SELECT actor_user_id::text FROM audit_event WHERE action = 'mfa.reset_by_admin' "
            "AND target_id = %s",
            alice.user_id,
        )
        == staff.user_id
    )
    assert "reset by an administrator" in db.last_mail(alice.email, "security_notice")


@pytest.mark.checklist("C1", red="drop the has_second_factor check in get_staff_principal")
def test_staff_without_a_factor_can_only_enrol(server: Server, db: Database, alice: Actor) -> None:
    staff = _new_staff(server)
    before = _snapshot(db)
    for method, path in (
        ("GET", "/v1/admin/users"),
        ("GET", "/v1/admin/audit-events"),
        ("POST", f"/v1/admin/users/{alice.user_id}/suspend"),
        ("POST", f"/v1/admin/users/{alice.user_id}/second-factors/reset"),
    ):
        refused = staff.request(method, path)
        assert refused.status_code == 403, refused.text
        assert refused.json()["code"] == "second_factor_enrolment_required"
        assert "/v1/auth/mfa/totp" in refused.json()["detail"]
    assert _snapshot(db) == before
    enrol_totp(staff)
    assert staff.get("/v1/admin/users").status_code == 200


def test_step_up_with_a_wrong_code_is_refused_and_changes_nothing(
    db: Database, alice: Actor
) -> None:
    enrol_totp(alice)
    _age_factor(db, alice)
    before = _snapshot(db)
    wrong = alice.post("/v1/auth/step-up", json={"code": "000000"})
    assert wrong.status_code == 403
    assert wrong.json()["code"] == "invalid_second_factor"
    assert _snapshot(db) == before


def test_accounts_without_a_factor_and_api_keys_are_not_stepped_up(
    db: Database, alice: Actor
) -> None:
    workspace = create_workspace(alice)
    created = alice.post(
        f"/v1/workspaces/{workspace}/api-keys", json={"name": "ci", "scopes": ["bots:read"]}
    )
    assert created.status_code == 201, created.text
    enrol_totp(alice)
    _age_factor(db, alice)
    key = created.json()["key"]
    listed = alice.get(
        f"/v1/workspaces/{workspace}/bots", headers={"Authorization": f"Bearer {key}", "Cookie": ""}
    )
    assert listed.status_code == 200, listed.text


def _new_staff(server: Server) -> Actor:
    email, password = unique_email("staff"), strong_password()
    result = run_cli(
        server.env, "create-user", "--email", email, "--admin", "--verified", stdin=password + "\n"
    )
    assert result.returncode == 0, result.stderr
    return login(server, email, password)


@pytest.mark.checklist(
    "C1", red="skip PasskeyRepository.delete_all in admin_reset, or refuse passkeys at step-up"
)
def test_staff_with_only_a_passkey_pass_the_policy_and_the_reset_removes_passkeys(
    server: Server, db: Database, alice: Actor
) -> None:
    staff = _new_staff(server)
    assert staff.get("/v1/admin/users").status_code == 403
    staff_key, _ = register_passkey(staff, "Staff key")  # the only factor: no TOTP
    assert staff.get("/v1/admin/users").status_code == 200
    register_passkey(alice, "Alice key")
    _age_factor(db, staff)
    stale = staff.post(f"/v1/admin/users/{alice.user_id}/second-factors/reset")
    assert stale.status_code == 401
    assert stale.json()["code"] == "step_up_required"
    stepped = step_up_with_passkey(staff, staff_key)  # a passkey is a fresh factor
    assert stepped.status_code == 200, stepped.text
    reset = staff.post(f"/v1/admin/users/{alice.user_id}/second-factors/reset")
    assert reset.status_code == 204, reset.text
    assert not db.scalar("SELECT count(*) FROM passkey WHERE user_id = %s", alice.user_id)
    assert (
        db.scalar("SELECT second_factor_at FROM user_account WHERE id = %s", alice.user_id) is None
    )
