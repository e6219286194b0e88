from tests.factories.workspaces import add_member, create_api_key, create_workspace
from tests.support import Actor, Database, Server


def test_owner_invites_member_and_key_lists_workspace(
    server: Server, db: Database, alice: Actor
) -> None:
    workspace_id = create_workspace(alice)
    bob = add_member(server, db, alice, workspace_id, "member")
    members = alice.get(f"/v1/workspaces/{workspace_id}/members").json()["items"]
    assert {m["email"] for m in members} == {alice.email, bob.email}
    key = create_api_key(alice, workspace_id, ["workspace:read"])
    import httpx

    listed = httpx.get(
        server.url + "/v1/workspaces", headers={"Authorization": f"Bearer {key['key']}"}
    )
    assert listed.status_code == 200
    assert [w["id"] for w in listed.json()["items"]] == [workspace_id]
