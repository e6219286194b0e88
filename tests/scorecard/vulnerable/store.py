"""The vulnerable app's whole state: dictionaries in one process, ids counted up from 1.

Ids are UUID-shaped (so a client of the real contract parses them) but sequential
(``00000000-0000-0000-0000-000000000007``): the next one, and every other tenant's, is guessable.
Nothing here records or checks who owns what beyond a ``workspace_id`` that no route compares
with the caller: that is the IDOR the authorization checks must find.
"""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

_counter = itertools.count(1)


def next_id() -> str:
    """The next sequential id, shaped like a UUID."""
    return f"00000000-0000-0000-0000-{next(_counter):012d}"


def now() -> str:
    return datetime.now(UTC).isoformat()


Record = dict[str, Any]


@dataclass
class Store:
    users: dict[str, Record] = field(default_factory=dict)
    # session token -> user id; logout forgets nothing (a revoked cookie keeps working).
    sessions: dict[str, str] = field(default_factory=dict)
    workspaces: dict[str, Record] = field(default_factory=dict)
    members: dict[str, dict[str, str]] = field(default_factory=dict)  # workspace -> user -> role
    bots: dict[str, Record] = field(default_factory=dict)
    conversations: dict[str, Record] = field(default_factory=dict)
    messages: dict[str, Record] = field(default_factory=dict)
    files: dict[str, Record] = field(default_factory=dict)
    blobs: dict[str, bytes] = field(default_factory=dict)
    api_keys: dict[str, Record] = field(default_factory=dict)
    key_secrets: dict[str, str] = field(default_factory=dict)  # full key -> key id (revoked too)
    endpoints: dict[str, Record] = field(default_factory=dict)
    inbound: list[Record] = field(default_factory=list)
    me_calls: int = 0  # every third GET /v1/me is slow (the p95 budget's flaw)

    def add_user(self, email: str, password: str, *, staff: bool = False) -> Record:
        user: Record = {
            "id": next_id(),
            "email": email.lower(),
            "password": password,  # stored in clear, like the rest of this app's mistakes
            "display_name": None,
            "email_verified": True,  # never verified: signup signs you straight in
            "is_staff": staff,
            "suspended_at": None,
            "created_at": now(),
        }
        self.users[user["id"]] = user
        return user

    def user_by_email(self, email: str) -> Record | None:
        return next((u for u in self.users.values() if u["email"] == email.lower()), None)

    def new_session(self, user_id: str) -> str:
        # The user id in clear, then a random tail that nothing ever verifies.
        token = f"{user_id}.{secrets.token_hex(16)}"
        self.sessions[token] = user_id
        return token


STORE = Store()


def public_user(user: Record) -> Record:
    return {k: user[k] for k in ("id", "email", "display_name", "email_verified", "is_staff")} | {
        "created_at": user["created_at"]
    }


def page(items: list[Record]) -> Record:
    """The list shape of the real API (no cursor: everything, every time)."""
    return {"items": items, "next_cursor": None}
