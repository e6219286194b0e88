from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ToolRead(BaseModel):
    name: str
    description: str
    parameters: dict[str, Any]
    required_permission: str


class ToolList(BaseModel):
    items: list[ToolRead]
