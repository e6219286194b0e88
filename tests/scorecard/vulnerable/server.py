"""Start the vulnerable app in a subprocess on loopback, with a throwaway CA, and sign up accounts.

``start(tmp)`` returns a ``Running`` app: its https base URL under the name ``HOST`` (resolved to
127.0.0.1 the way ``--resolve`` does), its plain-http URL, the CA file that verifies it, the log
file it writes passwords and cookies to, and two accounts signed up through its own API. The
certificate verifies for ``HOST`` (so every HTTPS question can be asked) but expires in
``CERT_DAYS`` days and the listener also speaks TLS 1.0/1.1: the TLS checks fail on it.
"""

from __future__ import annotations

import datetime
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import trustme

from app.scorecard.probe import Budget, Probe
from tests.support import ROOT, free_port, stop_process

DOMAIN = "vulnerable.test"
HOST = f"app.{DOMAIN}"
CERT_DAYS = 3


@dataclass(frozen=True)
class Account:
    email: str
    password: str = field(repr=False)


@dataclass
class Running:
    base_url: str  # https://app.vulnerable.test:PORT
    http_url: str  # http://127.0.0.1:PORT (plain, not redirected)
    ca_file: Path
    log_file: Path
    accounts: tuple[Account, ...]
    process: subprocess.Popen[bytes]
    tls_port: int

    @property
    def resolve(self) -> str:
        """The ``--resolve`` value for ``launchproof check``."""
        return f"{HOST}=127.0.0.1"

    def client(self) -> httpx.Client:
        """An httpx client that reaches ``HOST`` on loopback and trusts the throwaway CA (the
        scorecard's own probe transport, without its budget)."""
        probe = Probe(
            Budget(max_requests=10**9, max_seconds=10**9),
            resolve={HOST: "127.0.0.1"},
            ca_file=str(self.ca_file),
        )
        return probe.client


def _certificate(tmp: Path) -> tuple[Path, Path, Path]:
    ca = trustme.CA()
    expires = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=CERT_DAYS)
    leaf = ca.issue_cert(HOST, not_after=expires)
    ca_file, cert_file, key_file = tmp / "ca.pem", tmp / "cert.pem", tmp / "key.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    leaf.private_key_and_cert_chain_pem.write_to_path(str(cert_file))
    leaf.private_key_pem.write_to_path(str(key_file))
    return ca_file, cert_file, key_file


def _wait(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"vulnerable app exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("vulnerable app did not answer in 20 s")


def _sign_up(client: httpx.Client, base_url: str, count: int) -> tuple[Account, ...]:
    accounts = []
    for index in range(count):
        account = Account(
            f"owner{index}-{secrets.token_hex(4)}@{DOMAIN}", secrets.token_urlsafe(12)
        )
        body = {"email": account.email, "password": account.password}
        response = client.post(f"{base_url}/v1/auth/signup", json=body)
        assert response.status_code == 202, response.text
        accounts.append(account)
    return tuple(accounts)


@contextmanager
def start(tmp: Path, *, accounts: int = 2) -> Iterator[Running]:
    """The app, up and answering over http and https, with ``accounts`` signed-up users."""
    ca_file, cert_file, key_file = _certificate(tmp)
    port, tls_port = free_port(), free_port()
    log_file, output = tmp / "vulnerable.log", tmp / "vulnerable.out"
    command = [
        sys.executable,
        "-m",
        "tests.scorecard.vulnerable.main",
        f"--port={port}",
        f"--tls-port={tls_port}",
        f"--certfile={cert_file}",
        f"--keyfile={key_file}",
        "--legacy-tls",
        f"--log-file={log_file}",
    ]
    with output.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        http_url = f"http://127.0.0.1:{port}"
        _wait(f"{http_url}/healthz", process, output)
        running = Running(
            f"https://{HOST}:{tls_port}", http_url, ca_file, log_file, (), process, tls_port
        )
        with running.client() as client:
            running.accounts = _sign_up(client, running.base_url, accounts)
        yield running
    finally:
        stop_process(process)
