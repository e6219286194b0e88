from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="FactorStatusRead")


@_attrs_define
class FactorStatusRead:
    """
    Attributes:
        factor_verified_at (datetime.datetime | None):
        passkeys (int):
        recovery_codes_left (int):
        totp (bool):
    """

    factor_verified_at: datetime.datetime | None
    passkeys: int
    recovery_codes_left: int
    totp: bool
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        factor_verified_at: None | str
        if isinstance(self.factor_verified_at, datetime.datetime):
            factor_verified_at = self.factor_verified_at.isoformat()
        else:
            factor_verified_at = self.factor_verified_at

        passkeys = self.passkeys

        recovery_codes_left = self.recovery_codes_left

        totp = self.totp

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "factor_verified_at": factor_verified_at,
                "passkeys": passkeys,
                "recovery_codes_left": recovery_codes_left,
                "totp": totp,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_factor_verified_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                factor_verified_at_type_0 = datetime.datetime.fromisoformat(data)

                return factor_verified_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        factor_verified_at = _parse_factor_verified_at(d.pop("factor_verified_at"))

        passkeys = d.pop("passkeys")

        recovery_codes_left = d.pop("recovery_codes_left")

        totp = d.pop("totp")

        factor_status_read = cls(
            factor_verified_at=factor_verified_at,
            passkeys=passkeys,
            recovery_codes_left=recovery_codes_left,
            totp=totp,
        )

        factor_status_read.additional_properties = d
        return factor_status_read

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
