"""A loopback stack for the limits checks until H3's ``scorecard_stack`` is merged: the real
server (test settings, plain http) with tight budgets, a real clamd and the scan worker, the
model stub, a configured inbound webhook source, two verified accounts and a staff account
made through the CLI (as an operator makes them: no sign-up budget spent).
"""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.scorecard.context import Account, Options
from tests.factories.users import strong_password, unique_email
from tests.files.conftest import start_worker
from tests.scanner import Clamd
from tests.scorecard.limits_support import TIGHT_BUDGETS, UPLOAD_CAP, server_env
from tests.servers import ServerFactory
from tests.support import (
    Database,
    Server,
    Stub,
    base_env,
    migrated_database,
    run_cli,
    stop_process,
)

WEBHOOK_SOURCE = "lpcheck"


@dataclass
class LimitsStack:
    server: Server
    accounts: tuple[Account, ...]
    staff: Account
    database: Database  # the stack's own (its scan worker must not meet another stack's)

    def options(self, **overrides: object) -> Options:
        values: dict[str, object] = {
            "base_url": self.server.url,
            "accounts": self.accounts,
            "staff_account": self.staff,
            "webhook_source": WEBHOOK_SOURCE,
            "log_file": self.server.log_path,
            "budgets": {**TIGHT_BUDGETS, "max_upload_body_bytes": str(UPLOAD_CAP)},
        }
        values.update(overrides)
        return Options(**values)  # type: ignore[arg-type]


def make_account(server: Server, *flags: str) -> Account:
    email, password = unique_email("lpcheck"), strong_password()
    result = run_cli(
        server.env, "create-user", "--email", email, "--verified", *flags, stdin=password + "\n"
    )
    assert result.returncode == 0, result.stderr
    return Account(email, password)


@pytest.fixture(scope="module")
def limits_stack(
    stub: Stub,
    clamd: Clamd,
    server_factory: ServerFactory,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LimitsStack]:
    with migrated_database() as own:
        yield from _limits_stack(own, stub, clamd, server_factory, tmp_path_factory)


def _limits_stack(
    db: Database,
    stub: Stub,
    clamd: Clamd,
    server_factory: ServerFactory,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LimitsStack]:
    """On a database of its own: every scan worker claims queued files across workspaces, and
    the files suite's session-wide worker (another storage directory) would take this stack's
    uploads and leave them pending."""
    state = Path(tmp_path_factory.mktemp("limits"))
    hook_key = "whsec_" + base64.b64encode(os.urandom(32)).decode()
    env = base_env(
        db,
        OPENAI_BASE_URL=stub.base_url,
        CLAMD_URL=clamd.url,
        SCANNER_DISABLED="false",
        STORAGE_LOCAL_DIR=str(state / "objects"),
        MAX_UPLOAD_BODY_BYTES=str(UPLOAD_CAP),
        WORKER_POLL_SECONDS="0.2",
        WEBHOOK_INBOUND_SECRETS=f"{WEBHOOK_SOURCE}={hook_key}",
        RATE_LIMIT_KEY_PREFIX=f"lp-limits-{secrets.token_hex(6)}",
        RATE_LIMIT_READ="1000/minute",
        **server_env(TIGHT_BUDGETS),
    )
    with server_factory(env, log_path=state / "server.log") as server:
        worker = start_worker(server.env, state / "worker.log")
        accounts = (make_account(server), make_account(server))
        staff = make_account(server, "--admin")
        yield LimitsStack(server, accounts, staff, db)
        stop_process(worker)
