"""Wire shapes of the second-factor routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

TotpCode = Annotated[str, Field(pattern=r"^[0-9]{6}$", examples=["123456"])]
RecoveryCodeText = Annotated[
    str, Field(min_length=10, max_length=20, pattern=r"^[A-Za-z0-9 -]+$", examples=["abcde-fghjk"])
]


class FactorProof(BaseModel):
    """Exactly one of ``code`` (authenticator app) or ``recovery_code``."""

    model_config = ConfigDict(extra="forbid")

    code: TotpCode | None = None
    recovery_code: RecoveryCodeText | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> FactorProof:
        if (self.code is None) == (self.recovery_code is None):
            raise ValueError("send exactly one of code or recovery_code")
        return self


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


class RecoveryCodes(BaseModel):
    """Shown once: store them offline. Each works once, instead of the authenticator app."""

    recovery_codes: list[str]


class FactorStatusRead(BaseModel):
    totp: bool
    recovery_codes_left: int
    factor_verified_at: datetime | None


class StepUpRead(BaseModel):
    factor_verified_at: datetime
    fresh_until: datetime
