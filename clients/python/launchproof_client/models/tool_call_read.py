from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.tool_call_read_arguments import ToolCallReadArguments


T = TypeVar("T", bound="ToolCallRead")


@_attrs_define
class ToolCallRead:
    """
    Attributes:
        arguments (ToolCallReadArguments):
        conversation_id (UUID):
        created_at (datetime.datetime):
        detail (None | str):
        duration_ms (int):
        id (UUID):
        message_id (UUID):
        outcome (str):
        tool (str):
    """

    arguments: ToolCallReadArguments
    conversation_id: UUID
    created_at: datetime.datetime
    detail: None | str
    duration_ms: int
    id: UUID
    message_id: UUID
    outcome: str
    tool: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        arguments = self.arguments.to_dict()

        conversation_id = str(self.conversation_id)

        created_at = self.created_at.isoformat()

        detail: None | str
        detail = self.detail

        duration_ms = self.duration_ms

        id = str(self.id)

        message_id = str(self.message_id)

        outcome = self.outcome

        tool = self.tool

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "arguments": arguments,
                "conversation_id": conversation_id,
                "created_at": created_at,
                "detail": detail,
                "duration_ms": duration_ms,
                "id": id,
                "message_id": message_id,
                "outcome": outcome,
                "tool": tool,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.tool_call_read_arguments import ToolCallReadArguments  # noqa: PLC0415

        d = dict(src_dict)
        arguments = ToolCallReadArguments.from_dict(d.pop("arguments"))

        conversation_id = UUID(d.pop("conversation_id"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        def _parse_detail(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        detail = _parse_detail(d.pop("detail"))

        duration_ms = d.pop("duration_ms")

        id = UUID(d.pop("id"))

        message_id = UUID(d.pop("message_id"))

        outcome = d.pop("outcome")

        tool = d.pop("tool")

        tool_call_read = cls(
            arguments=arguments,
            conversation_id=conversation_id,
            created_at=created_at,
            detail=detail,
            duration_ms=duration_ms,
            id=id,
            message_id=message_id,
            outcome=outcome,
            tool=tool,
        )

        tool_call_read.additional_properties = d
        return tool_call_read

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
