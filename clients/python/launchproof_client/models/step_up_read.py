from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="StepUpRead")


@_attrs_define
class StepUpRead:
    """
    Attributes:
        factor_verified_at (datetime.datetime):
        fresh_until (datetime.datetime):
    """

    factor_verified_at: datetime.datetime
    fresh_until: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        factor_verified_at = self.factor_verified_at.isoformat()

        fresh_until = self.fresh_until.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "factor_verified_at": factor_verified_at,
                "fresh_until": fresh_until,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        factor_verified_at = datetime.datetime.fromisoformat(d.pop("factor_verified_at"))

        fresh_until = datetime.datetime.fromisoformat(d.pop("fresh_until"))

        step_up_read = cls(
            factor_verified_at=factor_verified_at,
            fresh_until=fresh_until,
        )

        step_up_read.additional_properties = d
        return step_up_read

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
