from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.endpoint_create_event_types_item import EndpointCreateEventTypesItem
from ..types import UNSET, Unset

T = TypeVar("T", bound="EndpointCreate")


@_attrs_define
class EndpointCreate:
    """
    Attributes:
        event_types (list[EndpointCreateEventTypesItem]):
        url (str):
        description (str | Unset):  Default: ''.
        include_content (bool | Unset):  Default: False.
    """

    event_types: list[EndpointCreateEventTypesItem]
    url: str
    description: str | Unset = ""
    include_content: bool | Unset = False

    def to_dict(self) -> dict[str, Any]:
        event_types = []
        for event_types_item_data in self.event_types:
            event_types_item = event_types_item_data.value
            event_types.append(event_types_item)

        url = self.url

        description = self.description

        include_content = self.include_content

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "event_types": event_types,
                "url": url,
            }
        )
        if description is not UNSET:
            field_dict["description"] = description
        if include_content is not UNSET:
            field_dict["include_content"] = include_content

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        event_types = []
        _event_types = d.pop("event_types")
        for event_types_item_data in _event_types:
            event_types_item = EndpointCreateEventTypesItem(event_types_item_data)

            event_types.append(event_types_item)

        url = d.pop("url")

        description = d.pop("description", UNSET)

        include_content = d.pop("include_content", UNSET)

        endpoint_create = cls(
            event_types=event_types,
            url=url,
            description=description,
            include_content=include_content,
        )

        return endpoint_create
