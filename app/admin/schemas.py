from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from app.users.schemas import UserRead


# A user as staff see it: the profile every user sees of themselves (UserRead), plus what only
# staff may read. (A comment, not a docstring: a docstring would become the schema's description.)
class AdminUserRead(UserRead):
    suspended_at: datetime | None


class AdminUserList(BaseModel):
    items: list[AdminUserRead]
    next_cursor: str | None


class AuditEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    occurred_at: datetime
    action: str
    outcome: str
    actor_user_id: uuid.UUID | None
    actor_api_key_id: uuid.UUID | None
    workspace_id: uuid.UUID | None
    target_type: str | None
    target_id: uuid.UUID | None
    client_ip: str | None
    request_id: str | None
    details: dict[str, Any]


class AuditEventList(BaseModel):
    items: list[AuditEventRead]
    next_cursor: str | None
