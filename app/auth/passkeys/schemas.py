"""Wire shapes of the passkey routes: the WebAuthn Level 3 JSON forms (what
``PublicKeyCredential.toJSON()`` produces in the browser), bounded and typed here so a
structurally wrong body is a 422 before any WebAuthn parsing; a body that fits the schema but is
not a WebAuthn response is a 400 ``passkey_malformed``."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints


def _b64url(max_length: int) -> Any:
    return Field(min_length=1, max_length=max_length, pattern=r"^[A-Za-z0-9_-]+={0,2}$")


CredentialId = Annotated[str, _b64url(1400)]
ClientData = Annotated[str, _b64url(4096)]
Binary = Annotated[str, _b64url(16384)]
Transport = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=r"^[a-z-]+$")]
PasskeyName = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$"
    ),
]
Attachment = Literal["platform", "cross-platform"]


class _Credential(BaseModel):
    # Browsers add fields over time (toJSON() grew several): unknown ones are ignored.
    model_config = ConfigDict(extra="ignore")

    id: CredentialId
    rawId: CredentialId
    type: Literal["public-key"]
    authenticatorAttachment: Attachment | None = None
    clientExtensionResults: dict[str, Any] = Field(default_factory=dict)

    def as_webauthn(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class AttestationResponse(BaseModel):
    model_config = ConfigDict(extra="ignore")

    clientDataJSON: ClientData
    attestationObject: Binary
    transports: list[Transport] | None = Field(default=None, max_length=8)


class AssertionResponse(BaseModel):
    model_config = ConfigDict(extra="ignore")

    clientDataJSON: ClientData
    authenticatorData: Binary
    signature: Binary
    userHandle: Annotated[str, _b64url(128)] | None = None


class RegistrationCredential(_Credential):
    """``RegistrationResponseJSON``: what ``navigator.credentials.create()`` returned."""

    response: AttestationResponse


class AuthenticationCredential(_Credential):
    """``AuthenticationResponseJSON``: what ``navigator.credentials.get()`` returned."""

    response: AssertionResponse


class PasskeyProof(BaseModel):
    """A passkey's answer to the prompt this session or sign-in asked for (the options route)."""

    model_config = ConfigDict(extra="forbid")

    passkey: AuthenticationCredential

    @property
    def parts(self) -> tuple[str | None, str | None]:
        return None, None

    @property
    def assertion(self) -> dict[str, Any]:
        return self.passkey.as_webauthn()


class PasskeyRegistration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: PasskeyName
    passkey: RegistrationCredential


class PasskeyRename(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: PasskeyName


class PasskeyOptions(BaseModel):
    """Pass ``publicKey`` to ``PublicKeyCredential.parseCreationOptionsFromJSON`` (registration)
    or ``parseRequestOptionsFromJSON`` (sign-in, step-up), then to ``navigator.credentials``;
    answer within ``expires_in`` seconds."""

    publicKey: dict[str, Any]
    expires_in: int


class PasskeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    aaguid: uuid.UUID
    transports: list[str]
    created_at: datetime
    last_used_at: datetime | None


class PasskeyCreated(PasskeyRead):
    """``recovery_codes`` only when this passkey is the account's first factor: shown once."""

    recovery_codes: list[str] | None = None


class PasskeyList(BaseModel):
    items: list[PasskeyRead]
