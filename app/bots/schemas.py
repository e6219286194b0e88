from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.tools.names import ToolName

BotName = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f]+$"
    ),
]
# Prompts are prose: newlines and tabs allowed, other control characters (and NUL) are not.
SystemPrompt = Annotated[
    str,
    StringConstraints(
        min_length=1, max_length=8000, pattern=r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]+$"
    ),
]
ModelName = Annotated[
    str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:/-]+$")
]
Domain = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        to_lower=True,
        min_length=1,
        max_length=253,
        # Either case is accepted and stored lower-cased (the pattern runs before to_lower).
        pattern=r"^(\*\.)?([a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z][a-zA-Z0-9-]{0,62}$",
    ),
]


class BotCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: BotName
    system_prompt: SystemPrompt
    model: ModelName
    temperature: Annotated[float, Field(ge=0.0, le=2.0)] = 0.7
    max_output_tokens: Annotated[int, Field(ge=16, le=32_768)] = 512
    tools: Annotated[list[ToolName], Field(max_length=len(ToolName))] = []
    allowed_domains: Annotated[list[Domain], Field(max_length=20)] = []


class BotUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: BotName | None = None
    system_prompt: SystemPrompt | None = None
    model: ModelName | None = None
    temperature: Annotated[float, Field(ge=0.0, le=2.0)] | None = None
    max_output_tokens: Annotated[int, Field(ge=16, le=32_768)] | None = None
    tools: Annotated[list[ToolName], Field(max_length=len(ToolName))] | None = None
    allowed_domains: Annotated[list[Domain], Field(max_length=20)] | None = None


class BotRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    workspace_id: uuid.UUID
    name: str
    system_prompt: str
    model: str
    temperature: float
    max_output_tokens: int
    tools: list[str]
    allowed_domains: list[str]
    created_at: datetime
    updated_at: datetime | None


class BotList(BaseModel):
    items: list[BotRead]
    next_cursor: str | None
