"""The project's own stack in production mode on loopback, for ``launchproof check`` to score.

What a real deployment has, in miniature: the API served over TLS by ``app serve
--ssl-certfile`` (a throwaway trustme CA, a certificate for ``app.launchproof.test``), the same
app on a plain-http listener (the redirect check), a local DNS server publishing the sending
domain's SPF/DKIM/DMARC, clamd and the scan worker, two verified throwaway accounts and a staff
account (TOTP enrolled through the API, as staff must: the check gets its secret through
``--staff-account EMAIL:ENVVAR:TOTPVAR``), an inbound webhook source, tight rate limits with
windows of seconds (given to the server and to the check as ``--budget``) and the server's log
file. The check reaches it through
``--resolve app.launchproof.test=127.0.0.1`` and ``--ca-file``, as an operator reaches a staging
host before its DNS exists.

The checker's requests come from 127.0.0.1, which is *not* a trusted proxy here (the proxy range
is 127.0.0.9/32): the stack treats the checker as any internet client, so no forwarded header
it sends could be believed.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import trustme

from app.scorecard.probe import Budget, Probe
from tests.dns_server import LocalDNSServer
from tests.edge.production import production_env
from tests.email.keys import dkim_record, private_key
from tests.factories.mfa import next_code
from tests.scanner import Clamd
from tests.support import ROOT, Database, free_port, run_cli, session_cookie

HOST = "app.launchproof.test"
DOMAIN = "launchproof.test"
DKIM_SELECTOR = "lp1"  # production_env's DKIM_SELECTOR
SECURITY_CONTACT = "mailto:security@launchproof.test"
# Tight but real: small enough that a burst proves the limit in a few requests, with windows
# of seconds so ``rate_limit.restores`` can see each budget come back within the run. Keys are
# the settings; the check gets them as --budget name=limit (the setting without RATE_LIMIT_).
RATE_LIMITS = {
    "RATE_LIMIT_LOGIN_IP": "20/5seconds",
    "RATE_LIMIT_LOGIN_ACCOUNT": "3/5seconds",
    "RATE_LIMIT_SIGNUP_IP": "3/5seconds",
    # pragma: allowlist nextline secret
    "RATE_LIMIT_PASSWORD_RESET_IP": "5/5seconds",
    # pragma: allowlist nextline secret
    "RATE_LIMIT_PASSWORD_RESET_ACCOUNT": "3/5seconds",
    "RATE_LIMIT_CHAT_SEND": "3/5seconds",
    "RATE_LIMIT_UPLOAD": "6/5seconds",
    "RATE_LIMIT_WEBHOOK": "5/5seconds",
    "RATE_LIMIT_ADMIN": "3/5seconds",
    "RATE_LIMIT_READ": "600/minute",
}
WEBHOOK_SOURCE = "lpcheck"  # an inbound source the stack verifies (unsigned calls are refused)
PASSWORD_VARIABLES = ("LP_CHECK_PASSWORD_A", "LP_CHECK_PASSWORD_B")
# pragma: allowlist nextline secret
STAFF_PASSWORD_VARIABLE = "LP_CHECK_PASSWORD_STAFF"
# pragma: allowlist nextline secret
STAFF_TOTP_VARIABLE = "LP_CHECK_TOTP_STAFF"


def dns_zone() -> dict[str, dict[str, list[str]]]:
    """The sending domain as production publishes it (docs/email.md)."""
    return {
        DOMAIN: {"TXT": ["v=spf1 ip4:192.0.2.10 -all"], "A": ["127.0.0.1"]},
        HOST: {"A": ["127.0.0.1"]},
        f"{DKIM_SELECTOR}._domainkey.{DOMAIN}": {"TXT": [dkim_record(private_key())]},
        f"_dmarc.{DOMAIN}": {"TXT": [f"v=DMARC1; p=reject; rua=mailto:dmarc@{DOMAIN}"]},
    }


@dataclass
class Stack:
    base_url: str  # https://app.launchproof.test:PORT
    http_url: str  # http://app.launchproof.test:PORT (the plain listener)
    ca_file: Path
    nameserver: str
    log_path: Path
    env: dict[str, str]  # the servers' environment
    accounts: tuple[tuple[str, str], ...]  # (email, password)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    # Platform staff (email, password), for the admin budget; None: the admin row is checked
    # from a non-staff account only (the vulnerable imitation has no staff at all).
    staff: tuple[str, str] | None = None
    # The staff account's TOTP secret (base32), enrolled when the stack starts.
    staff_totp: str | None = field(default=None, repr=False)

    def check_argv(self, *extra: str) -> list[str]:
        """``launchproof check`` arguments that score this stack (every option given)."""
        argv = [
            "check",
            self.base_url,
            "--http-url",
            self.http_url,
            "--resolve",
            f"{HOST}=127.0.0.1",
            "--ca-file",
            str(self.ca_file),
            "--domain",
            DOMAIN,
            "--dkim-selector",
            DKIM_SELECTOR,
            "--nameserver",
            self.nameserver,
            "--log-file",
            str(self.log_path),
        ]
        for (email, _), variable in zip(self.accounts, PASSWORD_VARIABLES, strict=True):
            argv += ["--account", f"{email}:{variable}"]
        if self.staff is not None:
            staff = f"{self.staff[0]}:{STAFF_PASSWORD_VARIABLE}"
            if self.staff_totp is not None:
                staff += f":{STAFF_TOTP_VARIABLE}"
            argv += ["--staff-account", staff]
        argv += ["--webhook-source", WEBHOOK_SOURCE]
        for name, limit in RATE_LIMITS.items():
            argv += ["--budget", f"{name.removeprefix('RATE_LIMIT_').lower()}={limit}"]
        return argv + list(extra)

    def check_env(self) -> dict[str, str]:
        """The checker's environment: the account passwords, nothing of the server's."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS"))}
        for (_, password), variable in zip(self.accounts, PASSWORD_VARIABLES, strict=True):
            env[variable] = password
        if self.staff is not None:
            env[STAFF_PASSWORD_VARIABLE] = self.staff[1]
        if self.staff_totp is not None:
            env[STAFF_TOTP_VARIABLE] = self.staff_totp
        return env

    def probe(self, max_requests: int = 1000, max_seconds: float = 60) -> Probe:
        """A probe that reaches this stack the way the check does (for tests of single checks)."""
        return Probe(
            Budget(max_requests, max_seconds),
            resolve={HOST: "127.0.0.1"},
            ca_file=str(self.ca_file),
        )


Report = dict[str, Any]  # the parsed JSON report (app/scorecard/report.py as_dict)


def findings(report: Report) -> dict[str, dict[str, Any]]:
    """Check id -> its JSON finding (status, why, evidence, fix)."""
    return {c["id"]: c for row in report["rows"] for c in row["checks"]}


def run_check(stack: Stack, *extra: str) -> tuple[subprocess.CompletedProcess[str], Report]:
    """``python -m app check --format json`` against the stack; (process, parsed report)."""
    result = subprocess.run(
        [sys.executable, "-m", "app", *stack.check_argv("--format", "json", *extra)],
        cwd=ROOT,
        env=stack.check_env(),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    try:
        report: dict[str, Any] = json.loads(result.stdout)
    except json.JSONDecodeError as exc:
        raise AssertionError(
            f"no JSON report: {result.stdout[-2000:]}{result.stderr[-2000:]}"
        ) from exc
    return result, report


def _serve(env: dict[str, str], port: int, log_path: Path, *tls: str) -> subprocess.Popen[bytes]:
    log = log_path.open("ab")  # both listeners append to one log, as one deployment's log
    return subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--port", str(port), *tls],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def _wait_ready(stack: Stack, worker_log: Path) -> None:
    """Both servers answer and the scan worker has started: a check that uploads a file waits
    at most ten seconds for its verdict, so the stack's own worker must be up before the run
    (the stack's own database keeps other suites' workers from its queue: conftest.py)."""
    probe = stack.probe(max_requests=10_000)
    deadline = time.monotonic() + 40
    try:
        while time.monotonic() < deadline:
            for process in stack.processes:
                if process.poll() is not None:
                    log = stack.log_path.read_text(errors="replace")[-3000:]
                    raise RuntimeError(f"server exited: {log}")
            try:
                ready = probe.request("GET", stack.base_url + "/readyz").status_code == 200
                plain = probe.request("GET", stack.http_url + "/healthz").status_code == 200
                working = b"worker started" in worker_log.read_bytes()
                if ready and plain and working:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
    finally:
        probe.close()
    raise RuntimeError("the scorecard stack (servers and scan worker) did not become ready in 40 s")


def start_stack(db: Database, clamd: Clamd, workdir: Path, exits: ExitStack) -> Stack:
    """Start everything; ``exits`` stops it (servers, DNS) when the caller closes it."""
    ca = trustme.CA()
    ca_file = workdir / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    certificate = ca.issue_cert(HOST)
    cert_file, key_file = workdir / "cert.pem", workdir / "key.pem"
    certificate.private_key_pem.write_to_path(str(key_file))
    with cert_file.open("wb") as chain:
        for blob in certificate.cert_chain_pems:
            chain.write(blob.bytes())
    dns = exits.enter_context(LocalDNSServer(dns_zone()))
    tls_port, http_port = free_port(), free_port()
    base_url = f"https://{HOST}:{tls_port}"
    env, overrides = production_env(db, clamd.url)
    env.update(overrides)
    env.update(RATE_LIMITS)
    env.update(
        PUBLIC_URL=base_url,
        ALLOWED_ORIGINS=base_url,
        ALLOWED_HOSTS=f"{HOST},127.0.0.1,localhost",
        TRUSTED_PROXY_CIDRS="127.0.0.9/32",
        SECURITY_CONTACT=SECURITY_CONTACT,
        WEBHOOK_INBOUND_SECRETS=f"{WEBHOOK_SOURCE}=whsec_{base64.b64encode(os.urandom(24)).decode()}",
        WORKER_POLL_SECONDS="0.2",  # the scan worker gives an upload its verdict promptly
    )
    checked = run_cli(env, "check-config")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    accounts = [_create_user(env, label) for label in ("a", "b")]
    staff = _create_user(env, "staff", "--admin")
    stack = Stack(
        base_url=base_url,
        http_url=f"http://{HOST}:{http_port}",
        ca_file=ca_file,
        nameserver=dns.nameserver,
        log_path=workdir / "server.log",
        env=env,
        accounts=tuple(accounts),
        staff=staff,
    )
    tls = ("--ssl-certfile", str(cert_file), "--ssl-keyfile", str(key_file))
    for port, args in ((tls_port, tls), (http_port, ())):
        process = _serve(env, port, stack.log_path, *args)
        stack.processes.append(process)
        exits.callback(_stop, process)
    # The scan worker: uploads get clamd's verdict, so a clean file becomes downloadable.
    worker = _work(env, workdir / "worker.log")
    stack.processes.append(worker)
    exits.callback(_stop, worker)
    _wait_ready(stack, workdir / "worker.log")
    stack.staff_totp = enrol_totp(stack, *staff)
    return stack


def enrol_totp(stack: Stack, email: str, password: str) -> str:
    """Sign ``email`` in and enrol an authenticator app through the public API, as the staff
    member would in the console; returns the base32 secret (the session is signed out)."""
    probe = stack.probe()
    headers = {"Origin": stack.base_url}
    try:
        signed_in = probe.request(
            "POST",
            stack.base_url + "/v1/auth/login",
            json={"email": email, "password": password},
            headers=headers,
        )
        assert signed_in.status_code == 200, signed_in.text
        # The probe keeps no cookie for this host: the session is sent explicitly.
        headers["Cookie"] = f"__Host-lp_session={session_cookie(signed_in)}"
        started = probe.request("POST", stack.base_url + "/v1/auth/mfa/totp", headers=headers)
        assert started.status_code == 201, started.text
        secret = str(started.json()["secret"])
        confirmed = probe.request(
            "POST",
            stack.base_url + "/v1/auth/mfa/totp/confirm",
            json={"code": next_code(secret)},
            headers=headers,
        )
        assert confirmed.status_code == 200, confirmed.text
        probe.request("POST", stack.base_url + "/v1/auth/logout", headers=headers)
    finally:
        probe.close()
    return secret


def _create_user(env: dict[str, str], label: str, *flags: str) -> tuple[str, str]:
    email = f"scorecard-{label}-{secrets.token_hex(4)}@example.com"
    password = secrets.token_urlsafe(18)
    created = run_cli(
        env, "create-user", "--email", email, "--verified", *flags, stdin=password + "\n"
    )
    assert created.returncode == 0, created.stderr[-2000:]
    return email, password


def _work(env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "app", "worker", "--jobs", "scan_files"],
        cwd=ROOT,
        env=env,
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
