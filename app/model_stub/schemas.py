"""Request bodies the stub accepts: the OpenAI chat-completions subset, and the control API.

The completion schema is strict where a real backend bug would hide (roles, tool definitions,
``tool_choice`` naming an offered tool, ``stream_options`` without ``stream``) and lenient where
the SDK adds parameters the stub has no use for (extra top-level fields are accepted and recorded).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

TOOL_NAME_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
SESSION_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
MAX_DELAY_MS = 5000


class FailMode(StrEnum):
    """What ``[[fail:MODE]]`` (or a script item's ``fail``) makes the stub do."""

    SERVER_ERROR = "500"
    RATE_LIMITED = "429"
    TIMEOUT = "timeout"
    BAD_TOOL_JSON = "bad-tool-json"
    BROKEN_STREAM = "broken-stream"
    CUT_STREAM = "cut-stream"
    SLOW = "slow"


# --- /v1/chat/completions ------------------------------------------------------------------


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str
    text: str | None = None


class FunctionCall(BaseModel):
    name: str
    arguments: str


class MessageToolCall(BaseModel):
    id: str
    type: Literal["function"] = "function"
    function: FunctionCall


class Message(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | Annotated[list[ContentPart], Field(max_length=1000)] | None = None
    name: str | None = None
    tool_calls: list[MessageToolCall] | None = Field(default=None, max_length=128)
    tool_call_id: str | None = None

    @model_validator(mode="after")
    def _role_shape(self) -> Self:
        if self.role == "tool" and not self.tool_call_id:
            raise ValueError("a tool message needs tool_call_id")
        if self.role != "assistant" and self.content is None:
            raise ValueError(f"a {self.role} message needs content")
        if self.role == "assistant" and self.content is None and not self.tool_calls:
            raise ValueError("an assistant message needs content or tool_calls")
        return self


class FunctionDefinition(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str = Field(pattern=TOOL_NAME_PATTERN)
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class Tool(BaseModel):
    type: Literal["function"]
    function: FunctionDefinition


class ToolChoiceFunction(BaseModel):
    name: str


class NamedToolChoice(BaseModel):
    type: Literal["function"]
    function: ToolChoiceFunction


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")

    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    model: str = Field(min_length=1)
    messages: list[Message] = Field(min_length=1, max_length=5000)
    stream: bool = False
    stream_options: StreamOptions | None = None
    tools: list[Tool] | None = Field(default=None, max_length=128)
    tool_choice: Literal["none", "auto", "required"] | NamedToolChoice | None = None
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    n: int | None = Field(default=None, ge=1, le=1)
    user: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.stream_options is not None and not self.stream:
            raise ValueError("stream_options is only allowed when stream is true")
        if self.tool_choice is not None and not self.tools:
            raise ValueError("tool_choice is only allowed when tools are specified")
        if isinstance(self.tool_choice, NamedToolChoice):
            if self.tool_choice.function.name not in self.tool_names:
                raise ValueError("tool_choice names a tool that is not in tools")
        return self

    @property
    def tool_names(self) -> list[str]:
        return [tool.function.name for tool in self.tools or []]

    @property
    def token_limit(self) -> int | None:
        return self.max_completion_tokens or self.max_tokens

    @property
    def include_usage(self) -> bool:
        return self.stream_options is not None and self.stream_options.include_usage


# --- /_stub/ control API --------------------------------------------------------------------


class ScriptedToolCall(BaseModel):
    """A tool call the "model" makes, whether or not the request offered that tool."""

    name: str = Field(min_length=1, max_length=200)
    # An object is JSON-encoded; a string is sent verbatim (so it may be invalid JSON).
    arguments: str | dict[str, Any] = Field(default_factory=dict)
    id: str | None = Field(default=None, min_length=1, max_length=100)


class ScriptItem(BaseModel):
    """One scripted completion. Neither ``text`` nor ``tool_calls``: the normal reply."""

    model_config = ConfigDict(extra="forbid")

    text: str | None = None
    tool_calls: list[ScriptedToolCall] | None = Field(default=None, min_length=1, max_length=128)
    # A hostile model: each string is sent verbatim as one event's ``data:`` (any JSON, or not
    # JSON at all: wrong types, deep nesting, floods), then ``[DONE]``. Streaming requests only.
    raw_chunks: list[str] | None = Field(default=None, min_length=1, max_length=10_000)
    fail: FailMode | None = None
    delay_ms: int | None = Field(default=None, ge=0, le=MAX_DELAY_MS)
    retry_after: int = Field(default=1, ge=0, le=3600)
    repeat: int = Field(default=1, ge=1, le=1000)

    @model_validator(mode="after")
    def _one_reply(self) -> Self:
        if sum(x is not None for x in (self.text, self.tool_calls, self.raw_chunks)) > 1:
            raise ValueError("a script item has text, tool_calls or raw_chunks, only one")
        return self


class ScriptCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    responses: list[ScriptItem] = Field(min_length=1, max_length=1000)
