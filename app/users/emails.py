"""E-mail addresses: validated by email-validator (through pydantic), stored normalised."""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from email_validator import SPECIAL_USE_DOMAIN_NAMES
from pydantic import AfterValidator, EmailStr, Field, StringConstraints


def normalise_email(value: str) -> str:
    """NFKC, trimmed, lower-cased: the key for "one account per mailbox" and for rate limits."""
    return unicodedata.normalize("NFKC", value).strip().lower()


def _any_case(word: str) -> str:
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in word)


# What email-validator refuses beyond the syntax of ``format: email``, stated in the schema:
# special-use domains (RFC 6761: .test, .localhost, .invalid, ...) as the domain or its suffix.
_RESERVED = "|".join(_any_case(name) for name in SPECIAL_USE_DOMAIN_NAMES)
EMAIL_PATTERN = rf"^[^@]+@(?!(?:[^@]*\.)?(?:{_RESERVED})\.?$)[^@]+$"

Email = Annotated[
    EmailStr,
    StringConstraints(max_length=320),
    Field(json_schema_extra={"pattern": EMAIL_PATTERN}),
    AfterValidator(normalise_email),
]
