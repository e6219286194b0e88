"""The API-key tests' people and keys: an owner with two workspaces, a stranger, and a key of every
scope, once per test module.
"""

from __future__ import annotations

import pytest

from tests.api_keys.keys import ALL_SCOPES
from tests.auth.helpers import KeyClient
from tests.factories.users import create_actor
from tests.factories.workspaces import create_api_key, create_workspace
from tests.support import Actor, Database, Server


@pytest.fixture(scope="module")
def owner(server: Server, db: Database) -> Actor:
    """Owns two workspaces: ``home`` (first) and ``elsewhere`` (second)."""
    actor = create_actor(server, db, "key-owner")
    create_workspace(actor, "Home")
    create_workspace(actor, "Elsewhere")
    return actor


@pytest.fixture(scope="module")
def home(owner: Actor) -> str:
    return list(owner.workspaces)[0]


@pytest.fixture(scope="module")
def elsewhere(owner: Actor) -> str:
    return list(owner.workspaces)[1]


@pytest.fixture(scope="module")
def stranger(server: Server, db: Database) -> Actor:
    actor = create_actor(server, db, "key-stranger")
    create_workspace(actor, "Stranger's")
    return actor


@pytest.fixture(scope="module")
def broad_key(server: Server, owner: Actor, home: str) -> KeyClient:
    return KeyClient(server, create_api_key(owner, home, ALL_SCOPES)["key"])
