from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StrictBool, StringConstraints

from app.identity.permissions import Role

WorkspaceName = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f]+$"
    ),
]


class WorkspaceCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"name": "Studio North"}]}
    )

    name: WorkspaceName


class WorkspaceUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: WorkspaceName | None = None
    # Owners only: members without a second factor are then refused (docs/mfa.md, "Policy").
    require_second_factor: StrictBool | None = None


class WorkspaceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    role: Role
    created_at: datetime
    require_second_factor: bool = False


class WorkspaceList(BaseModel):
    items: list[WorkspaceRead]
    next_cursor: str | None


class MemberRead(BaseModel):
    user_id: uuid.UUID
    email: str
    display_name: str | None
    role: Role
    joined_at: datetime


class MemberList(BaseModel):
    items: list[MemberRead]
    next_cursor: str | None


class MemberUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role
