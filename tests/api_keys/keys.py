"""Helpers of the API-key tests: every scope, the fields a key's read shows, and the key count."""

from __future__ import annotations

from tests.support import Database

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
