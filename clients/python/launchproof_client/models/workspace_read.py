from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.role import Role
from ..types import UNSET, Unset

T = TypeVar("T", bound="WorkspaceRead")


@_attrs_define
class WorkspaceRead:
    """
    Attributes:
        created_at (datetime.datetime):
        id (UUID):
        name (str):
        role (Role):
        require_second_factor (bool | Unset):  Default: False.
    """

    created_at: datetime.datetime
    id: UUID
    name: str
    role: Role
    require_second_factor: bool | Unset = False
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        created_at = self.created_at.isoformat()

        id = str(self.id)

        name = self.name

        role = self.role.value

        require_second_factor = self.require_second_factor

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "created_at": created_at,
                "id": id,
                "name": name,
                "role": role,
            }
        )
        if require_second_factor is not UNSET:
            field_dict["require_second_factor"] = require_second_factor

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        id = UUID(d.pop("id"))

        name = d.pop("name")

        role = Role(d.pop("role"))

        require_second_factor = d.pop("require_second_factor", UNSET)

        workspace_read = cls(
            created_at=created_at,
            id=id,
            name=name,
            role=role,
            require_second_factor=require_second_factor,
        )

        workspace_read.additional_properties = d
        return workspace_read

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
