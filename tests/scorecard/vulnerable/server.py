"""Start the vulnerable app in a subprocess on loopback, with a throwaway CA, a weak DNS zone and
two accounts signed up through its own API, dressed as the deployment ``tests/scorecard/stack.py``
serves: the same host name, sending domain and DKIM selector. ``launchproof check`` is run with
the very options that score the real stack PASS (``Stack.check_argv``); only what answers differs.

The certificate verifies for ``HOST`` (so every HTTPS question can be asked) but expires in
``CERT_DAYS`` days, and the listener also speaks TLS 1.0/1.1 with any cipher. The plain-http
listener serves the app instead of redirecting.
"""

from __future__ import annotations

import datetime
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import trustme

from app.scorecard.probe import Budget, Probe
from tests.dns_server import LocalDNSServer
from tests.scorecard.stack import DOMAIN, HOST, Stack
from tests.scorecard.vulnerable.planted import dns_zone
from tests.support import ROOT, free_port, stop_process

CERT_DAYS = 3


def _certificate(tmp: Path) -> tuple[Path, Path, Path]:
    ca = trustme.CA()
    expires = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=CERT_DAYS)
    leaf = ca.issue_cert(HOST, not_after=expires)
    ca_file, cert_file, key_file = tmp / "ca.pem", tmp / "cert.pem", tmp / "key.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    leaf.private_key_and_cert_chain_pem.write_to_path(str(cert_file))
    leaf.private_key_pem.write_to_path(str(key_file))
    return ca_file, cert_file, key_file


def client(stack: Stack) -> httpx.Client:
    """An httpx client that reaches ``HOST`` on loopback and trusts the throwaway CA (the
    scorecard's own probe transport, with no budget to speak of), for the fixture's own tests."""
    probe = Probe(
        Budget(max_requests=10**9, max_seconds=10.0**9),
        resolve={HOST: "127.0.0.1"},
        ca_file=str(stack.ca_file),
    )
    return probe.client


def _wait(url: str, process: subprocess.Popen[bytes], output: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = output.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"vulnerable app exited: {log}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("vulnerable app did not answer in 20 s")


def _sign_up(stack: Stack, count: int) -> tuple[tuple[str, str], ...]:
    accounts = []
    with client(stack) as http:
        for index in range(count):
            email = f"owner{index}-{secrets.token_hex(4)}@{DOMAIN}"
            password = secrets.token_urlsafe(12)
            body = {"email": email, "password": password}
            response = http.post(f"{stack.base_url}/v1/auth/signup", json=body)
            assert response.status_code == 202, response.text
            accounts.append((email, password))
    return tuple(accounts)


def _serve(tmp: Path, tls_port: int, http_port: int, output: Path) -> subprocess.Popen[bytes]:
    _, cert_file, key_file = _certificate(tmp)
    command = [
        sys.executable,
        "-m",
        "tests.scorecard.vulnerable.main",
        f"--port={http_port}",
        f"--tls-port={tls_port}",
        f"--certfile={cert_file}",
        f"--keyfile={key_file}",
        "--legacy-tls",
        f"--log-file={tmp / 'vulnerable.log'}",
    ]
    with output.open("wb") as out:
        return subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)


@contextmanager
def start(tmp: Path, *, accounts: int = 2) -> Iterator[Stack]:
    """The app up over http and https, its zone served, ``accounts`` users signed up."""
    tls_port, http_port = free_port(), free_port()
    output = tmp / "vulnerable.out"
    with ExitStack() as exits:
        dns = exits.enter_context(LocalDNSServer(dns_zone()))
        process = _serve(tmp, tls_port, http_port, output)
        exits.callback(stop_process, process)
        _wait(f"http://127.0.0.1:{http_port}/healthz", process, output)
        stack = Stack(
            base_url=f"https://{HOST}:{tls_port}",
            http_url=f"http://{HOST}:{http_port}",
            ca_file=tmp / "ca.pem",
            nameserver=dns.nameserver,
            log_path=tmp / "vulnerable.log",
            env={},
            accounts=(),
            processes=[process],
        )
        stack.accounts = _sign_up(stack, accounts)
        yield stack
