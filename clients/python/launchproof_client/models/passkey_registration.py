from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.registration_credential import RegistrationCredential


T = TypeVar("T", bound="PasskeyRegistration")


@_attrs_define
class PasskeyRegistration:
    """
    Attributes:
        name (str):
        passkey (RegistrationCredential): ``RegistrationResponseJSON``: what ``navigator.credentials.create()``
            returned.
    """

    name: str
    passkey: RegistrationCredential

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        passkey = self.passkey.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
                "passkey": passkey,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.registration_credential import RegistrationCredential  # noqa: PLC0415

        d = dict(src_dict)
        name = d.pop("name")

        passkey = RegistrationCredential.from_dict(d.pop("passkey"))

        passkey_registration = cls(
            name=name,
            passkey=passkey,
        )

        return passkey_registration
