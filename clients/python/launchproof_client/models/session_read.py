from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="SessionRead")


@_attrs_define
class SessionRead:
    """
    Attributes:
        absolute_expires_at (datetime.datetime):
        client_ip (None | str):
        created_at (datetime.datetime):
        id (UUID):
        idle_expires_at (datetime.datetime):
        last_seen_at (datetime.datetime):
        user_agent (None | str):
        current (bool | Unset):  Default: False.
    """

    absolute_expires_at: datetime.datetime
    client_ip: None | str
    created_at: datetime.datetime
    id: UUID
    idle_expires_at: datetime.datetime
    last_seen_at: datetime.datetime
    user_agent: None | str
    current: bool | Unset = False
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        absolute_expires_at = self.absolute_expires_at.isoformat()

        client_ip: None | str
        client_ip = self.client_ip

        created_at = self.created_at.isoformat()

        id = str(self.id)

        idle_expires_at = self.idle_expires_at.isoformat()

        last_seen_at = self.last_seen_at.isoformat()

        user_agent: None | str
        user_agent = self.user_agent

        current = self.current

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "absolute_expires_at": absolute_expires_at,
                "client_ip": client_ip,
                "created_at": created_at,
                "id": id,
                "idle_expires_at": idle_expires_at,
                "last_seen_at": last_seen_at,
                "user_agent": user_agent,
            }
        )
        if current is not UNSET:
            field_dict["current"] = current

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        absolute_expires_at = datetime.datetime.fromisoformat(d.pop("absolute_expires_at"))

        def _parse_client_ip(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        client_ip = _parse_client_ip(d.pop("client_ip"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        id = UUID(d.pop("id"))

        idle_expires_at = datetime.datetime.fromisoformat(d.pop("idle_expires_at"))

        last_seen_at = datetime.datetime.fromisoformat(d.pop("last_seen_at"))

        def _parse_user_agent(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        user_agent = _parse_user_agent(d.pop("user_agent"))

        current = d.pop("current", UNSET)

        session_read = cls(
            absolute_expires_at=absolute_expires_at,
            client_ip=client_ip,
            created_at=created_at,
            id=id,
            idle_expires_at=idle_expires_at,
            last_seen_at=last_seen_at,
            user_agent=user_agent,
            current=current,
        )

        session_read.additional_properties = d
        return session_read

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
