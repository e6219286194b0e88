from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="MessageRead")


@_attrs_define
class MessageRead:
    """
    Attributes:
        completion_tokens (int):
        content (str):
        conversation_id (UUID):
        created_at (datetime.datetime):
        id (UUID):
        model (None | str):
        prompt_tokens (int):
        reply_to_id (None | UUID):
        role (str):
        status (str):
        error_code (None | str | Unset):
    """

    completion_tokens: int
    content: str
    conversation_id: UUID
    created_at: datetime.datetime
    id: UUID
    model: None | str
    prompt_tokens: int
    reply_to_id: None | UUID
    role: str
    status: str
    error_code: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        completion_tokens = self.completion_tokens

        content = self.content

        conversation_id = str(self.conversation_id)

        created_at = self.created_at.isoformat()

        id = str(self.id)

        model: None | str
        model = self.model

        prompt_tokens = self.prompt_tokens

        reply_to_id: None | str
        if isinstance(self.reply_to_id, UUID):
            reply_to_id = str(self.reply_to_id)
        else:
            reply_to_id = self.reply_to_id

        role = self.role

        status = self.status

        error_code: None | str | Unset
        if isinstance(self.error_code, Unset):
            error_code = UNSET
        else:
            error_code = self.error_code

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "completion_tokens": completion_tokens,
                "content": content,
                "conversation_id": conversation_id,
                "created_at": created_at,
                "id": id,
                "model": model,
                "prompt_tokens": prompt_tokens,
                "reply_to_id": reply_to_id,
                "role": role,
                "status": status,
            }
        )
        if error_code is not UNSET:
            field_dict["error_code"] = error_code

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        completion_tokens = d.pop("completion_tokens")

        content = d.pop("content")

        conversation_id = UUID(d.pop("conversation_id"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        id = UUID(d.pop("id"))

        def _parse_model(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        model = _parse_model(d.pop("model"))

        prompt_tokens = d.pop("prompt_tokens")

        def _parse_reply_to_id(data: object) -> None | UUID:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                reply_to_id_type_0 = UUID(data)

                return reply_to_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | UUID, data)

        reply_to_id = _parse_reply_to_id(d.pop("reply_to_id"))

        role = d.pop("role")

        status = d.pop("status")

        def _parse_error_code(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        error_code = _parse_error_code(d.pop("error_code", UNSET))

        message_read = cls(
            completion_tokens=completion_tokens,
            content=content,
            conversation_id=conversation_id,
            created_at=created_at,
            id=id,
            model=model,
            prompt_tokens=prompt_tokens,
            reply_to_id=reply_to_id,
            role=role,
            status=status,
            error_code=error_code,
        )

        message_read.additional_properties = d
        return message_read

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
