from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="AttemptRead")


@_attrs_define
class AttemptRead:
    """
    Attributes:
        created_at (datetime.datetime):
        duration_ms (int):
        outcome (str):
        response_snippet (str):
        status_code (int | None):
    """

    created_at: datetime.datetime
    duration_ms: int
    outcome: str
    response_snippet: str
    status_code: int | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        created_at = self.created_at.isoformat()

        duration_ms = self.duration_ms

        outcome = self.outcome

        response_snippet = self.response_snippet

        status_code: int | None
        status_code = self.status_code

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "created_at": created_at,
                "duration_ms": duration_ms,
                "outcome": outcome,
                "response_snippet": response_snippet,
                "status_code": status_code,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        duration_ms = d.pop("duration_ms")

        outcome = d.pop("outcome")

        response_snippet = d.pop("response_snippet")

        def _parse_status_code(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        status_code = _parse_status_code(d.pop("status_code"))

        attempt_read = cls(
            created_at=created_at,
            duration_ms=duration_ms,
            outcome=outcome,
            response_snippet=response_snippet,
            status_code=status_code,
        )

        attempt_read.additional_properties = d
        return attempt_read

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
