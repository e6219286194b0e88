from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.tool_read_parameters import ToolReadParameters


T = TypeVar("T", bound="ToolRead")


@_attrs_define
class ToolRead:
    """
    Attributes:
        description (str):
        name (str):
        parameters (ToolReadParameters):
        required_permission (str):
    """

    description: str
    name: str
    parameters: ToolReadParameters
    required_permission: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        description = self.description

        name = self.name

        parameters = self.parameters.to_dict()

        required_permission = self.required_permission

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "description": description,
                "name": name,
                "parameters": parameters,
                "required_permission": required_permission,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.tool_read_parameters import ToolReadParameters  # noqa: PLC0415

        d = dict(src_dict)
        description = d.pop("description")

        name = d.pop("name")

        parameters = ToolReadParameters.from_dict(d.pop("parameters"))

        required_permission = d.pop("required_permission")

        tool_read = cls(
            description=description,
            name=name,
            parameters=parameters,
            required_permission=required_permission,
        )

        tool_read.additional_properties = d
        return tool_read

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
