"""Wire shapes of the second-factor routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.auth.passkeys.schemas import PasskeyProof

TotpCode = Annotated[str, Field(pattern=r"^[0-9]{6}$", examples=["123456"])]
RecoveryCodeText = Annotated[
    str, Field(min_length=10, max_length=20, pattern=r"^[A-Za-z0-9 -]+$", examples=["abcde-fghjk"])
]


class TotpProof(BaseModel):
    """A code from the authenticator app."""

    model_config = ConfigDict(extra="forbid")

    code: TotpCode

    @property
    def parts(self) -> tuple[str | None, str | None]:
        return self.code, None

    @property
    def assertion(self) -> None:
        return None


class RecoveryProof(BaseModel):
    """One of the ten recovery codes (each works once)."""

    model_config = ConfigDict(extra="forbid")

    recovery_code: RecoveryCodeText

    @property
    def parts(self) -> tuple[str | None, str | None]:
        return None, self.recovery_code

    @property
    def assertion(self) -> None:
        return None


# Exactly one of the three, expressed in the schema itself (``anyOf`` of closed objects), so
# clients and the OpenAPI fuzzer see the rule instead of meeting it as a 422. A passkey answers
# the prompt of the matching ``passkey-options`` route (docs/mfa.md).
FactorProof = TotpProof | RecoveryProof | PasskeyProof


class TotpConfirm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: TotpCode


class SecondFactorRequired(BaseModel):
    """Login step 1 of a factor-enrolled account: the half-session cookie is set; send a factor
    to ``POST /v1/auth/login/second-factor`` within five minutes."""

    status: Literal["second_factor_required"] = "second_factor_required"
    methods: list[str]
    expires_in: int


class TotpEnrolmentRead(BaseModel):
    """Shown once. The client renders ``otpauth_uri`` as a QR code; ``secret`` is for manual
    entry."""

    secret: str
    otpauth_uri: str


class RecoveryCodesShown(BaseModel):
    """Shown once: store them offline. Each works once, instead of the authenticator app."""

    recovery_codes: list[str]


class FactorStatusRead(BaseModel):
    totp: bool
    passkeys: int
    recovery_codes_left: int
    factor_verified_at: datetime | None


class StepUpRead(BaseModel):
    factor_verified_at: datetime
    fresh_until: datetime
