from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.bots.tool_names import ToolName
from app.core.config import get_settings
from app.core.json_numbers import JSON_NUMBER

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
# Either case is accepted and stored lower-cased (the pattern runs before to_lower). The schema
# states the outbound guard's whole rule (normalise_allowed_domain): labels never end in '-' and
# hold '--' at positions 3-4 only as IDNA's 'xn--'; the enforced pattern cannot say the second
# part (pydantic's regex engine has no look-ahead), the guard does (422 invalid_allowed_domain).
_LABEL = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
_TLD = r"[a-zA-Z](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
_NO_HYPHENS_3_4 = r"(?!(?![xX][nN])[a-zA-Z0-9]{2}--)"
Domain = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        to_lower=True,
        min_length=1,
        max_length=253,
        pattern=rf"^(\*\.)?({_LABEL}\.)+{_TLD}$",
    ),
    Field(
        json_schema_extra={
            "pattern": rf"^(\*\.)?({_NO_HYPHENS_3_4}{_LABEL}\.)+{_NO_HYPHENS_3_4}{_TLD}$"
        }
    ),
]


# The deployment's own limits, stated in the OpenAPI document (read from the settings when the
# document is built) so a client and a fuzzer see the rule the service enforces
# (app/bots/service.py _check_limits refuses anything else with 422).
def _offered_models(schema: dict[str, Any]) -> None:
    schema["enum"] = list(get_settings().chat_models)


def _output_ceiling(schema: dict[str, Any]) -> None:
    schema["maximum"] = get_settings().chat_max_output_tokens


def _bot_example(schema: dict[str, Any]) -> None:
    schema["examples"] = [
        {
            "name": "Support assistant",
            "system_prompt": "You answer questions about the creator's courses, briefly.",
            "model": get_settings().chat_models[0],
            "max_output_tokens": min(256, get_settings().chat_max_output_tokens),
            "tools": ["search_files"],
        }
    ]


OfferedModel = Annotated[ModelName, Field(json_schema_extra=_offered_models)]
OutputTokens = Annotated[
    int, Field(ge=16, le=32_768, json_schema_extra=_output_ceiling), JSON_NUMBER
]


class BotCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_bot_example)

    name: BotName
    system_prompt: SystemPrompt
    model: OfferedModel
    temperature: Annotated[float, Field(ge=0.0, le=2.0), JSON_NUMBER] = 0.7
    max_output_tokens: OutputTokens = 512
    tools: Annotated[list[ToolName], Field(max_length=len(ToolName))] = []
    allowed_domains: Annotated[list[Domain], Field(max_length=20)] = []


class BotUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: BotName | None = None
    system_prompt: SystemPrompt | None = None
    model: OfferedModel | None = None
    temperature: Annotated[float, Field(ge=0.0, le=2.0), JSON_NUMBER] | None = None
    max_output_tokens: OutputTokens | None = None
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
