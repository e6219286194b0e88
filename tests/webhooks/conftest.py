"""Webhook fixtures: a dedicated server (loopback receivers allowed, a test DNS server, inbound
sources configured), a recording receiver, and the real worker as a subprocess."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.dns_server import LocalDNSServer
from tests.factories.users import create_actor
from tests.factories.workspaces import create_workspace
from tests.servers import ServerFactory
from tests.support import ROOT, Actor, Database, Server, base_env
from tests.webhooks.receiver import Receiver

BILLING_SECRET = "whsec_" + base64.b64encode(os.urandom(32)).decode()
CREATOR_SECRET = "whsec_" + base64.b64encode(os.urandom(32)).decode()
# The creator platform is mid-rotation: calls signed with its previous secret still verify.
CREATOR_OLD_SECRET = "whsec_" + base64.b64encode(os.urandom(32)).decode()
# Fast retries so backoff is observable in seconds; production defaults are minutes to hours.
WEBHOOK_ENV = {
    "OUTBOUND_DEV_ALLOWED_ADDRESSES": "127.0.0.1",
    "WEBHOOK_INBOUND_SECRETS": (
        f"billing={BILLING_SECRET},creator={CREATOR_SECRET} {CREATOR_OLD_SECRET}"
    ),
    "WEBHOOK_RETRY_BASE_SECONDS": "0.5",
    "WEBHOOK_RETRY_MAX_SECONDS": "2",
    "WEBHOOK_MAX_ATTEMPTS": "4",
    "WEBHOOK_LEASE_SECONDS": "5",
    "WEBHOOK_TIMEOUT_SECONDS": "5",
    "WORKER_POLL_SECONDS": "0.2",
}


@pytest.fixture(scope="package")
def dns() -> Iterator[LocalDNSServer]:
    with LocalDNSServer({"hooks.test": {"A": ["127.0.0.1"]}}) as server:
        yield server


@pytest.fixture(scope="package")
def wh_server(
    server_factory: ServerFactory,
    db: Database,
    dns: LocalDNSServer,
) -> Iterator[Server]:
    env = base_env(db, **WEBHOOK_ENV, OUTBOUND_DNS_SERVER=dns.nameserver)
    with server_factory(env, name="wh-server") as srv:
        yield srv


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as recv:
        yield recv


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    log_path: Path

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


# Only the webhook jobs: other suites' workers share this database and must not take (or be taken
# by) deliveries signed with keys they do not hold, and vice versa.
WEBHOOK_JOBS = "deliver_webhooks,process_inbound_webhooks"


def start_worker(
    env: dict[str, str], log_path: Path, *, module: str = "app", **overrides: str
) -> Worker:
    """The real worker (``python -m app worker``) against the test database; ``module`` runs a
    fault-injecting launcher instead (tests/webhooks/crashing_worker.py)."""
    log = log_path.open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", module, "worker", "--jobs", WEBHOOK_JOBS],
        cwd=ROOT,
        env={**env, **overrides},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return Worker(process=process, log_path=log_path)


@pytest.fixture
def worker(wh_server: Server, tmp_path: Path) -> Iterator[Worker]:
    running = start_worker(wh_server.env, tmp_path / "worker.log")
    yield running
    running.stop()


@pytest.fixture
def admin(wh_server: Server, db: Database) -> Actor:
    """A workspace owner on the webhook server, with one workspace."""
    actor = create_actor(wh_server, db, "wh-owner")
    create_workspace(actor, "Hooks")
    return actor


def workspace_of(actor: Actor) -> str:
    return next(iter(actor.workspaces))


def register(
    actor: Actor, url: str, events: list[str] | None = None, **extra: Any
) -> dict[str, Any]:
    response = actor.post(
        f"/v1/workspaces/{workspace_of(actor)}/webhook-endpoints",
        json={"url": url, "event_types": events or ["conversation.created"], **extra},
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def wait_until(predicate: Any, timeout: float = 30.0, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError("condition not met in time")
