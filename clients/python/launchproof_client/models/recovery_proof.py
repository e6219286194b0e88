from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="RecoveryProof")


@_attrs_define
class RecoveryProof:
    """One of the ten recovery codes (each works once).

    Attributes:
        recovery_code (str):
    """

    recovery_code: str

    def to_dict(self) -> dict[str, Any]:
        recovery_code = self.recovery_code

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "recovery_code": recovery_code,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        recovery_code = d.pop("recovery_code")

        recovery_proof = cls(
            recovery_code=recovery_code,
        )

        return recovery_proof
