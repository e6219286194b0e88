from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="ConversationRead")


@_attrs_define
class ConversationRead:
    """
    Attributes:
        bot_id (UUID):
        created_at (datetime.datetime):
        id (UUID):
        last_message_at (datetime.datetime | None):
        title (str):
        workspace_id (UUID):
    """

    bot_id: UUID
    created_at: datetime.datetime
    id: UUID
    last_message_at: datetime.datetime | None
    title: str
    workspace_id: UUID
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        bot_id = str(self.bot_id)

        created_at = self.created_at.isoformat()

        id = str(self.id)

        last_message_at: None | str
        if isinstance(self.last_message_at, datetime.datetime):
            last_message_at = self.last_message_at.isoformat()
        else:
            last_message_at = self.last_message_at

        title = self.title

        workspace_id = str(self.workspace_id)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "bot_id": bot_id,
                "created_at": created_at,
                "id": id,
                "last_message_at": last_message_at,
                "title": title,
                "workspace_id": workspace_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        bot_id = UUID(d.pop("bot_id"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        id = UUID(d.pop("id"))

        def _parse_last_message_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                last_message_at_type_0 = datetime.datetime.fromisoformat(data)

                return last_message_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        last_message_at = _parse_last_message_at(d.pop("last_message_at"))

        title = d.pop("title")

        workspace_id = UUID(d.pop("workspace_id"))

        conversation_read = cls(
            bot_id=bot_id,
            created_at=created_at,
            id=id,
            last_message_at=last_message_at,
            title=title,
            workspace_id=workspace_id,
        )

        conversation_read.additional_properties = d
        return conversation_read

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
