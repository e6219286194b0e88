"""E-mail addresses: validated by email-validator (through pydantic), stored normalised."""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator, EmailStr, StringConstraints


def normalise_email(value: str) -> str:
    """NFKC, trimmed, lower-cased: the key for "one account per mailbox" and for rate limits."""
    return unicodedata.normalize("NFKC", value).strip().lower()


Email = Annotated[EmailStr, StringConstraints(max_length=320), AfterValidator(normalise_email)]
