from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.dev_stack import dev_env_file, dev_server  # noqa: F401 - make run's shape
from tests.factories.users import create_actor
from tests.scanner import Clamd, start_clamd, stop_clamd
from tests.servers import ServerFactory
from tests.support import (
    Actor,
    Anonymous,
    Database,
    Server,
    Stub,
    migrated_database,
    run_cli,
    start_stub,
    stop_process,
)

# The checklist marker's enforcement and its JSON dump for docs/checklist.md.
pytest_plugins = ("tests.checklist_plugin",)


@pytest.fixture(scope="session")
def db() -> Iterator[Database]:
    """A fresh database for this run, built by running the real migrations as the owner role."""
    with migrated_database() as database:
        yield database


@pytest.fixture(scope="session")
def stub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stub]:
    """The project's OpenAI-compatible model stub; the real openai SDK talks to it over HTTP."""
    model_stub = start_stub(Path(tmp_path_factory.mktemp("stub")) / "stub.log")
    yield model_stub
    stop_process(model_stub.process)


@pytest.fixture(scope="session")
def clamd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clamd]:
    """A real clamd on a free loopback port with an EICAR-only test signature database (files;
    production servers need a scanner too). Missing binary: skip locally, fail under CI=true."""
    daemon = start_clamd(Path(tmp_path_factory.mktemp("clamd")))
    yield daemon
    stop_clamd(daemon)


@pytest.fixture(scope="session")
def server_factory(
    db: Database, stub: Stub, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerFactory]:
    """Settings overrides in, a running server out, always stopped (tests/servers.py)."""
    factory = ServerFactory(db, stub, tmp_path_factory)
    yield factory
    factory.stop_all()


@pytest.fixture(scope="session")
def server(server_factory: ServerFactory) -> Iterator[Server]:
    """The real service: uvicorn on loopback, app role, test settings, the model stub."""
    # Webhooks: endpoints in the BOLA and role matrices register http://127.0.0.2:9/hook, a
    # loopback address nothing listens on (127.0.0.1, where tests run receivers, stays refused).
    with server_factory(OUTBOUND_DEV_ALLOWED_ADDRESSES="127.0.0.2") as srv:
        yield srv


@pytest.fixture
def anon(server: Server) -> Anonymous:
    return Anonymous(server)


@pytest.fixture
def alice(server: Server, db: Database) -> Actor:
    return create_actor(server, db, "alice")


@pytest.fixture
def mallory(server: Server, db: Database) -> Actor:
    """The attacker: a real, verified account in another workspace."""
    return create_actor(server, db, "mallory")


@pytest.fixture(scope="session")
def staff_account(server: Server, db: Database) -> Actor:
    """Platform staff, created the way operators do it: through the CLI, then enrolled in TOTP
    (staff need a second factor; enrolling leaves the session freshly verified for step-up)."""
    from tests.factories.mfa import enrol_totp
    from tests.factories.users import login, strong_password, unique_email

    email, password = unique_email("staff"), strong_password()
    result = run_cli(
        server.env, "create-user", "--email", email, "--admin", "--verified", stdin=password + "\n"
    )
    assert result.returncode == 0, result.stderr
    actor = login(server, email, password)
    enrol_totp(actor)
    return actor


@pytest.fixture
def staff(staff_account: Actor) -> Actor:
    """The session-wide staff, stepped up again when its last factor nears the step-up window's
    end (a whole run is longer than STEP_UP_MAX_AGE_SECONDS)."""
    from tests.factories.mfa import keep_fresh

    return keep_fresh(staff_account)
