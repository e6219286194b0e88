from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="PasskeyCreated")


@_attrs_define
class PasskeyCreated:
    """``recovery_codes`` only when this passkey is the account's first factor: shown once.

    Attributes:
        aaguid (UUID):
        created_at (datetime.datetime):
        id (UUID):
        last_used_at (datetime.datetime | None):
        name (str):
        transports (list[str]):
        recovery_codes (list[str] | None | Unset):
    """

    aaguid: UUID
    created_at: datetime.datetime
    id: UUID
    last_used_at: datetime.datetime | None
    name: str
    transports: list[str]
    recovery_codes: list[str] | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        aaguid = str(self.aaguid)

        created_at = self.created_at.isoformat()

        id = str(self.id)

        last_used_at: None | str
        if isinstance(self.last_used_at, datetime.datetime):
            last_used_at = self.last_used_at.isoformat()
        else:
            last_used_at = self.last_used_at

        name = self.name

        transports = self.transports

        recovery_codes: list[str] | None | Unset
        if isinstance(self.recovery_codes, Unset):
            recovery_codes = UNSET
        elif isinstance(self.recovery_codes, list):
            recovery_codes = self.recovery_codes

        else:
            recovery_codes = self.recovery_codes

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "aaguid": aaguid,
                "created_at": created_at,
                "id": id,
                "last_used_at": last_used_at,
                "name": name,
                "transports": transports,
            }
        )
        if recovery_codes is not UNSET:
            field_dict["recovery_codes"] = recovery_codes

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        aaguid = UUID(d.pop("aaguid"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        id = UUID(d.pop("id"))

        def _parse_last_used_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                last_used_at_type_0 = datetime.datetime.fromisoformat(data)

                return last_used_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        last_used_at = _parse_last_used_at(d.pop("last_used_at"))

        name = d.pop("name")

        transports = cast(list[str], d.pop("transports"))

        def _parse_recovery_codes(data: object) -> list[str] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                recovery_codes_type_0 = cast(list[str], data)

                return recovery_codes_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | None | Unset, data)

        recovery_codes = _parse_recovery_codes(d.pop("recovery_codes", UNSET))

        passkey_created = cls(
            aaguid=aaguid,
            created_at=created_at,
            id=id,
            last_used_at=last_used_at,
            name=name,
            transports=transports,
            recovery_codes=recovery_codes,
        )

        passkey_created.additional_properties = d
        return passkey_created

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
