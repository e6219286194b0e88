from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="WorkspaceUpdate")


@_attrs_define
class WorkspaceUpdate:
    """
    Attributes:
        name (None | str | Unset):
        require_second_factor (bool | None | Unset):
    """

    name: None | str | Unset = UNSET
    require_second_factor: bool | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        name: None | str | Unset
        if isinstance(self.name, Unset):
            name = UNSET
        else:
            name = self.name

        require_second_factor: bool | None | Unset
        if isinstance(self.require_second_factor, Unset):
            require_second_factor = UNSET
        else:
            require_second_factor = self.require_second_factor

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if name is not UNSET:
            field_dict["name"] = name
        if require_second_factor is not UNSET:
            field_dict["require_second_factor"] = require_second_factor

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        name = _parse_name(d.pop("name", UNSET))

        def _parse_require_second_factor(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        require_second_factor = _parse_require_second_factor(d.pop("require_second_factor", UNSET))

        workspace_update = cls(
            name=name,
            require_second_factor=require_second_factor,
        )

        return workspace_update
