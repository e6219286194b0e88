"""Workspaces, members with a given role, and API keys, built through the API."""

from __future__ import annotations

from typing import Any

from tests.factories.users import create_actor
from tests.support import Actor, Database, Server


def create_workspace(owner: Actor, name: str = "Studio") -> str:
    response = owner.post("/v1/workspaces", json={"name": name})
    assert response.status_code == 201, response.text
    workspace_id = str(response.json()["id"])
    owner.workspaces[workspace_id] = "owner"
    return workspace_id


def add_member(server: Server, db: Database, owner: Actor, workspace_id: str, role: str) -> Actor:
    """Invite a fresh user with ``role`` and accept as them."""
    member = create_actor(server, db, label=role)
    invited = owner.post(
        f"/v1/workspaces/{workspace_id}/invitations", json={"email": member.email, "role": role}
    )
    assert invited.status_code == 201, invited.text
    token = db.token_from_mail(member.email, "invitation")
    accepted = member.post("/v1/invitations/accept", json={"token": token})
    assert accepted.status_code == 200, accepted.text
    member.workspaces[workspace_id] = role
    return member


def create_api_key(owner: Actor, workspace_id: str, scopes: list[str]) -> dict[str, Any]:
    response = owner.post(
        f"/v1/workspaces/{workspace_id}/api-keys", json={"name": "ci key", "scopes": scopes}
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body
