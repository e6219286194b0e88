"""The signed-in user's own row as session authentication read it, for the rest of the request.

A plain frozen value, not an ORM entity: nothing tracks or writes it. ``/v1/me`` answers from it
without a second SELECT (the same transaction read it a moment ago); anything that changes the
user loads the ``User`` entity instead (``UserRepository.get_self``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

# ``session.info`` key under which session authentication keeps the caller's own user row for
# the rest of the request's transaction (app/identity/credentials.py).
AUTHENTICATED_USER = "authenticated_user"


@dataclass(frozen=True, slots=True)
class AuthenticatedUser:
    id: uuid.UUID
    email: str
    display_name: str | None
    is_staff: bool
    email_verified_at: datetime | None
    created_at: datetime

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None
