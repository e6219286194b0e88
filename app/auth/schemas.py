from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.users.emails import Email
from app.users.schemas import DisplayName

# Length only here; the full policy (common passwords, equals e-mail) runs in the service so its
# message can be specific without echoing the value.
Password = Annotated[str, Field(min_length=1, max_length=1024)]
NewPassword = Annotated[str, Field(min_length=8, max_length=1024)]
Token = Annotated[str, Field(min_length=16, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SignupRequest(Strict):
    email: Email
    password: NewPassword
    display_name: DisplayName | None = None


class LoginRequest(Strict):
    email: Email
    password: Password


class VerifyEmailRequest(Strict):
    """Either confirm with ``token`` or ask for a new link with ``email``."""

    token: Token | None = None
    email: Email | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> VerifyEmailRequest:
        if (self.token is None) == (self.email is None):
            raise ValueError("send exactly one of token or email")
        return self


class PasswordResetRequest(Strict):
    email: Email


class PasswordResetConfirm(Strict):
    token: Token
    new_password: NewPassword


class PasswordChangeRequest(Strict):
    current_password: Password
    new_password: NewPassword


class Accepted(BaseModel):
    status: str = "accepted"
    detail: str
