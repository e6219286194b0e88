from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.passkey_options_publickey import PasskeyOptionsPublickey


T = TypeVar("T", bound="PasskeyOptions")


@_attrs_define
class PasskeyOptions:
    """Pass ``publicKey`` to ``PublicKeyCredential.parseCreationOptionsFromJSON`` (registration)
    or ``parseRequestOptionsFromJSON`` (sign-in, step-up), then to ``navigator.credentials``;
    answer within ``expires_in`` seconds.

        Attributes:
            expires_in (int):
            public_key (PasskeyOptionsPublickey):
    """

    expires_in: int
    public_key: PasskeyOptionsPublickey
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        expires_in = self.expires_in

        public_key = self.public_key.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "expires_in": expires_in,
                "publicKey": public_key,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.passkey_options_publickey import PasskeyOptionsPublickey  # noqa: PLC0415

        d = dict(src_dict)
        expires_in = d.pop("expires_in")

        public_key = PasskeyOptionsPublickey.from_dict(d.pop("publicKey"))

        passkey_options = cls(
            expires_in=expires_in,
            public_key=public_key,
        )

        passkey_options.additional_properties = d
        return passkey_options

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
