from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.message_read import MessageRead
    from ..models.tool_call_read import ToolCallRead


T = TypeVar("T", bound="TurnResult")


@_attrs_define
class TurnResult:
    """The JSON-mode answer (and the SSE ``done`` event's payload).

    Attributes:
        message (MessageRead):
        tool_calls (list[ToolCallRead]):
        user_message_id (UUID):
    """

    message: MessageRead
    tool_calls: list[ToolCallRead]
    user_message_id: UUID
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        message = self.message.to_dict()

        tool_calls = []
        for tool_calls_item_data in self.tool_calls:
            tool_calls_item = tool_calls_item_data.to_dict()
            tool_calls.append(tool_calls_item)

        user_message_id = str(self.user_message_id)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "message": message,
                "tool_calls": tool_calls,
                "user_message_id": user_message_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.message_read import MessageRead  # noqa: PLC0415
        from ..models.tool_call_read import ToolCallRead  # noqa: PLC0415

        d = dict(src_dict)
        message = MessageRead.from_dict(d.pop("message"))

        tool_calls = []
        _tool_calls = d.pop("tool_calls")
        for tool_calls_item_data in _tool_calls:
            tool_calls_item = ToolCallRead.from_dict(tool_calls_item_data)

            tool_calls.append(tool_calls_item)

        user_message_id = UUID(d.pop("user_message_id"))

        turn_result = cls(
            message=message,
            tool_calls=tool_calls,
            user_message_id=user_message_id,
        )

        turn_result.additional_properties = d
        return turn_result

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
