"""Owners can require a second factor of every member (C1)."""

from __future__ import annotations

import pytest

from tests.factories.mfa import enrol_totp
from tests.factories.workspaces import add_member, create_workspace
from tests.support import Actor, Database, Server


@pytest.mark.checklist(
    "C1",
    red="drop the second_factor_at IS NULL branch (withheld) of app_authenticate_session",
)
def test_members_without_a_factor_are_refused_with_a_way_to_enrol(
    server: Server, db: Database, alice: Actor
) -> None:
    workspace = create_workspace(alice)
    member = add_member(server, db, alice, workspace, "member")
    enrol_totp(alice)
    turned_on = alice.patch(f"/v1/workspaces/{workspace}", json={"require_second_factor": True})
    assert turned_on.status_code == 200, turned_on.text
    assert turned_on.json()["require_second_factor"] is True
    before = db.snapshot("workspace", "workspace_membership", "bot")
    for path in (f"/v1/workspaces/{workspace}", f"/v1/workspaces/{workspace}/bots"):
        refused = member.get(path)
        assert refused.status_code == 403, refused.text
        assert refused.json()["code"] == "workspace_requires_second_factor"
        assert "/v1/auth/mfa/totp" in refused.json()["detail"]
    created = member.post(f"/v1/workspaces/{workspace}/bots", json={"name": "x"})
    assert created.status_code == 403
    listed = member.get("/v1/workspaces")
    assert workspace not in {w["id"] for w in listed.json()["items"]}
    assert db.snapshot("workspace", "workspace_membership", "bot") == before
    enrol_totp(member)
    assert member.get(f"/v1/workspaces/{workspace}").status_code == 200


@pytest.mark.checklist("C1", red="drop the owner check in check_second_factor_policy_change")
def test_only_owners_with_a_factor_set_the_policy(
    server: Server, db: Database, alice: Actor
) -> None:
    workspace = create_workspace(alice)
    admin = add_member(server, db, alice, workspace, "admin")
    enrol_totp(admin)
    before = db.snapshot("workspace")
    by_admin = admin.patch(f"/v1/workspaces/{workspace}", json={"require_second_factor": True})
    assert by_admin.status_code == 403
    assert by_admin.json()["code"] == "owner_only"
    by_owner = alice.patch(f"/v1/workspaces/{workspace}", json={"require_second_factor": True})
    assert by_owner.status_code == 403
    assert by_owner.json()["code"] == "second_factor_enrolment_required"
    assert db.snapshot("workspace") == before
