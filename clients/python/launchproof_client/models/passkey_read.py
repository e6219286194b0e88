from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="PasskeyRead")


@_attrs_define
class PasskeyRead:
    """
    Attributes:
        aaguid (UUID):
        created_at (datetime.datetime):
        id (UUID):
        last_used_at (datetime.datetime | None):
        name (str):
        transports (list[str]):
    """

    aaguid: UUID
    created_at: datetime.datetime
    id: UUID
    last_used_at: datetime.datetime | None
    name: str
    transports: list[str]
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

        passkey_read = cls(
            aaguid=aaguid,
            created_at=created_at,
            id=id,
            last_used_at=last_used_at,
            name=name,
            transports=transports,
        )

        passkey_read.additional_properties = d
        return passkey_read

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
