from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="BotRead")


@_attrs_define
class BotRead:
    """
    Attributes:
        allowed_domains (list[str]):
        created_at (datetime.datetime):
        id (UUID):
        max_output_tokens (int):
        model (str):
        name (str):
        system_prompt (str):
        temperature (float):
        tools (list[str]):
        updated_at (datetime.datetime | None):
        workspace_id (UUID):
    """

    allowed_domains: list[str]
    created_at: datetime.datetime
    id: UUID
    max_output_tokens: int
    model: str
    name: str
    system_prompt: str
    temperature: float
    tools: list[str]
    updated_at: datetime.datetime | None
    workspace_id: UUID
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        allowed_domains = self.allowed_domains

        created_at = self.created_at.isoformat()

        id = str(self.id)

        max_output_tokens = self.max_output_tokens

        model = self.model

        name = self.name

        system_prompt = self.system_prompt

        temperature = self.temperature

        tools = self.tools

        updated_at: None | str
        if isinstance(self.updated_at, datetime.datetime):
            updated_at = self.updated_at.isoformat()
        else:
            updated_at = self.updated_at

        workspace_id = str(self.workspace_id)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "allowed_domains": allowed_domains,
                "created_at": created_at,
                "id": id,
                "max_output_tokens": max_output_tokens,
                "model": model,
                "name": name,
                "system_prompt": system_prompt,
                "temperature": temperature,
                "tools": tools,
                "updated_at": updated_at,
                "workspace_id": workspace_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        allowed_domains = cast(list[str], d.pop("allowed_domains"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        id = UUID(d.pop("id"))

        max_output_tokens = d.pop("max_output_tokens")

        model = d.pop("model")

        name = d.pop("name")

        system_prompt = d.pop("system_prompt")

        temperature = d.pop("temperature")

        tools = cast(list[str], d.pop("tools"))

        def _parse_updated_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                updated_at_type_0 = datetime.datetime.fromisoformat(data)

                return updated_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        updated_at = _parse_updated_at(d.pop("updated_at"))

        workspace_id = UUID(d.pop("workspace_id"))

        bot_read = cls(
            allowed_domains=allowed_domains,
            created_at=created_at,
            id=id,
            max_output_tokens=max_output_tokens,
            model=model,
            name=name,
            system_prompt=system_prompt,
            temperature=temperature,
            tools=tools,
            updated_at=updated_at,
            workspace_id=workspace_id,
        )

        bot_read.additional_properties = d
        return bot_read

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
