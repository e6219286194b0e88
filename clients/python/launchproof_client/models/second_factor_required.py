from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="SecondFactorRequired")


@_attrs_define
class SecondFactorRequired:
    """Login step 1 of a factor-enrolled account: the half-session cookie is set; send a factor
    to ``POST /v1/auth/login/second-factor`` within five minutes.

        Attributes:
            expires_in (int):
            methods (list[str]):
            status (Literal['second_factor_required'] | Unset):  Default: 'second_factor_required'.
    """

    expires_in: int
    methods: list[str]
    status: Literal["second_factor_required"] | Unset = "second_factor_required"
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        expires_in = self.expires_in

        methods = self.methods

        status = self.status

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "expires_in": expires_in,
                "methods": methods,
            }
        )
        if status is not UNSET:
            field_dict["status"] = status

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        expires_in = d.pop("expires_in")

        methods = cast(list[str], d.pop("methods"))

        status = cast(Literal["second_factor_required"] | Unset, d.pop("status", UNSET))
        if status != "second_factor_required" and not isinstance(status, Unset):
            raise ValueError(f"status must match const 'second_factor_required', got '{status}'")

        second_factor_required = cls(
            expires_in=expires_in,
            methods=methods,
            status=status,
        )

        second_factor_required.additional_properties = d
        return second_factor_required

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
