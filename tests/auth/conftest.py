"""Fixtures shared by the auth router attacks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.servers import ServerFactory
from tests.support import Server

SLOW_TIME_COST = 16


def second_server_env(server: Server, **overrides: str) -> dict[str, str]:
    """The main server's environment (same database and SECRET_KEY) for another server."""
    env = {k: v for k, v in server.env.items() if k not in ("PUBLIC_URL", "ALLOWED_ORIGINS")}
    return {**env, **overrides}


@pytest.fixture(scope="package")
def slow_hash_server(server: Server, server_factory: ServerFactory) -> Iterator[Server]:
    """The service with argon2 at t=16 (~150 ms a hash) on the same database.

    Hashing then dominates a request, so a path that skips it stands out in timing tests and a
    flood's blocking would be visible. Accounts must be created *through* this server: verifying
    costs what the stored hash says, not what the server is configured with.
    """
    overrides = {"ARGON2_TIME_COST": str(SLOW_TIME_COST), "ARGON2_MAX_CONCURRENCY": "2"}
    with server_factory(second_server_env(server, **overrides), name="slow") as slow:
        yield slow
