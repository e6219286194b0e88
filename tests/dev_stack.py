"""A development server shaped like ``make run``'s, for the first-day tests (README "Quick start").

``dev_env_file`` is what ``python -m app dev-db`` writes to ``.data/dev.env`` (with DATABASE_URL
set it starts no embedded server: the suite's database is used); ``dev_server`` runs
ENVIRONMENT=development with those values on http://127.0.0.1:<port> and the model stub, so its
session cookie is ``lp_session`` and 127.0.0.1 receivers are allowed, as under ``make run``.
Registered in tests/conftest.py; started only by the tests that ask for them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from dotenv import dotenv_values

from tests.servers import ServerFactory
from tests.support import Database, Server, Stub, base_env, run_cli


@pytest.fixture(scope="session")
def dev_env_file(tmp_path_factory: pytest.TempPathFactory, db: Database) -> dict[str, str]:
    path = tmp_path_factory.mktemp("devenv") / "dev.env"
    env = {k: v for k, v in base_env(db).items() if k != "ENVIRONMENT"}
    written = run_cli(env, "dev-db", "--env-file", str(path))
    assert written.returncode == 0, written.stderr
    return {k: v for k, v in dotenv_values(path).items() if v is not None}


@pytest.fixture(scope="session")
def dev_server(
    server_factory: ServerFactory,
    db: Database,
    stub: Stub,
    dev_env_file: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Server]:
    env = base_env(db, ENVIRONMENT="development", OPENAI_BASE_URL=stub.base_url, **dev_env_file)
    with server_factory(env, name="dev") as server:
        yield server
