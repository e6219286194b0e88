from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.authentication_credential import AuthenticationCredential


T = TypeVar("T", bound="PasskeyProof")


@_attrs_define
class PasskeyProof:
    """A passkey's answer to the prompt this session or sign-in asked for (the options route).

    Attributes:
        passkey (AuthenticationCredential): ``AuthenticationResponseJSON``: what ``navigator.credentials.get()``
            returned.
    """

    passkey: AuthenticationCredential

    def to_dict(self) -> dict[str, Any]:
        passkey = self.passkey.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "passkey": passkey,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.authentication_credential import AuthenticationCredential  # noqa: PLC0415

        d = dict(src_dict)
        passkey = AuthenticationCredential.from_dict(d.pop("passkey"))

        passkey_proof = cls(
            passkey=passkey,
        )

        return passkey_proof
