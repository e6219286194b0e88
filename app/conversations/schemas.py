from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

# The pattern judges the value as sent (no control character, at least one visible one), and
# only then are surrounding spaces trimmed: stripping first let "\r title" through a schema
# that forbids control characters (found by the OpenAPI fuzzer).
Title = Annotated[
    str,
    StringConstraints(
        min_length=1,
        max_length=200,
        pattern=r"^[^\x00-\x1f\x7f]*[^\x00-\x20\x7f][^\x00-\x1f\x7f]*$",
    ),
    AfterValidator(str.strip),
]


class ConversationCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"title": "Launch week questions"}]}
    )

    title: Title | None = None


class ConversationUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title


class ConversationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    workspace_id: uuid.UUID
    bot_id: uuid.UUID
    title: str
    created_at: datetime
    last_message_at: datetime | None


class ConversationList(BaseModel):
    items: list[ConversationRead]
    next_cursor: str | None


# Prose: newlines/tabs allowed; NUL and other control characters refused. The length cap is the
# server's CHAT_MAX_MESSAGE_CHARS, checked in the service (this is the absolute ceiling).
MessageText = Annotated[
    str,
    StringConstraints(
        min_length=1, max_length=100_000, pattern=r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]+$"
    ),
]


class MessageCreate(BaseModel):
    """Only the user's text: clients cannot send system, assistant or tool messages."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"content": "What should I post first?", "file_ids": []}]},
    )

    content: MessageText
    # Files: clean files of the conversation's workspace, read into the prompt as text.
    file_ids: list[uuid.UUID] = Field(default_factory=list, max_length=5)


class MessageRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    conversation_id: uuid.UUID
    role: str
    content: str
    status: str
    reply_to_id: uuid.UUID | None
    model: str | None
    prompt_tokens: int
    completion_tokens: int
    # Why a ``failed``/``incomplete`` answer ended (docs/decisions/0005-streaming-persistence.md).
    error_code: str | None = None
    created_at: datetime


class MessageList(BaseModel):
    items: list[MessageRead]
    next_cursor: str | None


class ToolCallRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    conversation_id: uuid.UUID
    message_id: uuid.UUID
    tool: str
    arguments: dict[str, object]
    outcome: str
    detail: str | None
    duration_ms: int
    created_at: datetime


class ToolCallList(BaseModel):
    items: list[ToolCallRead]
    next_cursor: str | None


class Usage(BaseModel):
    prompt_tokens: int = Field(ge=0)
    completion_tokens: int = Field(ge=0)


class TurnResult(BaseModel):
    """The JSON-mode answer (and the SSE ``done`` event's payload)."""

    user_message_id: uuid.UUID
    message: MessageRead
    tool_calls: list[ToolCallRead]
