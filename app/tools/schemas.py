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


class ModelList(BaseModel):
    """The models a bot may be created with (``CHAT_MODELS``), for pickers such as the console's."""

    items: list[str]
