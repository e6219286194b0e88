"""C10: platform mail leaves through the real worker over SMTP, DKIM-signed, and an SMTP outage
loses nothing.

A real uvicorn server and the real worker process (``python -m app worker``) share one settings
set: SMTP_URL points at an aiosmtpd sink on loopback, the DKIM key comes from
DKIM_PRIVATE_KEY_FILE, and the signature is verified with dkimpy against a real DNS server on
loopback publishing the selector's key. The database is read only to observe outbox rows.
"""

from __future__ import annotations

import email
import email.policy
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dkim
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.dns_server import LocalDNSServer
from tests.email.keys import dkim_record, private_key, private_pem
from tests.factories.users import login, signup, strong_password, unique_email
from tests.factories.workspaces import create_api_key, create_workspace
from tests.support import (
    ROOT,
    Anonymous,
    Database,
    Server,
    base_env,
    free_port,
    start_server,
    stop_process,
    stop_server,
)

pytestmark = pytest.mark.checklist(
    "C10",
    red="send platform mail without the DKIM signature, lose queued mail during an SMTP outage, "
    "or build mailed links from the request's Host",
)

DOMAIN = "mail.example.test"
SELECTOR = "lp2026"


@dataclass
class Sink:
    """An SMTP server on loopback that keeps every message exactly as received."""

    port: int
    messages: list[tuple[list[str], bytes]] = field(default_factory=list)
    controller: Controller | None = None

    async def handle_DATA(  # aiosmtpd's hook name and signature
        self,
        server: SMTP,  # noqa: ARG002
        session: Session,  # noqa: ARG002
        envelope: Envelope,
    ) -> str:
        self.messages.append((list(envelope.rcpt_tos), envelope.original_content or b""))
        return "250 OK"

    def start(self) -> Sink:
        self.stop()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def to(self, address: str) -> list[bytes]:
        return [raw for rcpts, raw in self.messages if address in rcpts]


def wait_for(predicate: Callable[[], Any], seconds: float = 20.0) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


@dataclass
class MailStack:
    server: Server
    sink: Sink
    dns: LocalDNSServer
    env: dict[str, str]
    logs: Path

    def worker_once(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "app", "worker", "--jobs", "deliver_email", "--once"],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def dkim_verifies(self, raw: bytes) -> bool:
        def txt(name: bytes, timeout: int = 5) -> bytes:
            return "".join(self.dns.txt(name.decode())).encode()

        return bool(dkim.verify(raw, dnsfunc=txt))


@pytest.fixture(scope="module")
def stack(db: Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MailStack]:
    tmp = tmp_path_factory.mktemp("mail")
    key_file = tmp / "dkim.pem"
    key_file.write_text(private_pem(private_key()))
    zone = {f"{SELECTOR}._domainkey.{DOMAIN}": {"TXT": [dkim_record(private_key())]}}
    sink = Sink(free_port())
    env = base_env(
        db,
        SMTP_URL=f"smtp://127.0.0.1:{sink.port}",
        DKIM_SELECTOR=SELECTOR,
        DKIM_PRIVATE_KEY_FILE=str(key_file),
        EMAIL_FROM=f"Launchproof <no-reply@{DOMAIN}>",
        EMAIL_RETRY_BASE_SECONDS="3",
        EMAIL_BATCH_SIZE="500",
    )
    with LocalDNSServer(zone) as dns:
        server = start_server(env, tmp / "server.log")
        try:
            yield MailStack(server=server, sink=sink, dns=dns, env=server.env, logs=tmp)
        finally:
            stop_server(server)
            sink.stop()


def _body(raw: bytes) -> str:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def test_reset_mail_links_use_public_url_whatever_the_host_header(
    stack: MailStack, db: Database
) -> None:
    """The password-reset mail is the classic Host-header poisoning target: a spoofed Host must
    never become the link a victim clicks."""
    stack.sink.start()
    worker_log = (stack.logs / "worker-reset.log").open("wb")
    worker = subprocess.Popen(
        [sys.executable, "-m", "app", "worker", "--jobs", "deliver_email"],
        cwd=ROOT,
        env=stack.env,
        stdout=worker_log,
        stderr=subprocess.STDOUT,
    )
    try:
        address, _ = signup(stack.server, db, email=unique_email("reset"))
        port = stack.server.url.rsplit(":", 1)[1]
        response = Anonymous(stack.server).post(
            "/v1/auth/password-reset",
            json={"email": address},
            headers={"Host": f"localhost:{port}"},
        )
        assert response.status_code == 202, response.text

        def reset_mails() -> list[bytes]:
            return [raw for raw in stack.sink.to(address) if b"reset" in raw.lower()]

        raw = wait_for(reset_mails)[0]
    finally:
        stop_process(worker)
        worker_log.close()

    links = re.findall(r"https?://\S+", _body(raw))
    assert links
    assert all(link.startswith(stack.server.url + "/") for link in links), links
    assert "localhost" not in _body(raw)


def test_verification_mail_arrives_signed_with_public_url_links(
    stack: MailStack, db: Database
) -> None:
    stack.sink.start()
    worker_log = (stack.logs / "worker.log").open("wb")
    worker = subprocess.Popen(
        [sys.executable, "-m", "app", "worker", "--jobs", "deliver_email"],
        cwd=ROOT,
        env=stack.env,
        stdout=worker_log,
        stderr=subprocess.STDOUT,
    )
    try:
        address, password = unique_email("mailer"), strong_password()
        # A Host header other than PUBLIC_URL's: links must still use PUBLIC_URL only.
        port = stack.server.url.rsplit(":", 1)[1]
        response = Anonymous(stack.server).post(
            "/v1/auth/signup",
            json={"email": address, "password": password},
            headers={"Host": f"localhost:{port}"},
        )
        assert response.status_code == 202, response.text
        raw = wait_for(lambda: stack.sink.to(address))[0]
    finally:
        stop_process(worker)
        worker_log.close()

    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["From"] == f"Launchproof <no-reply@{DOMAIN}>"
    assert message["To"] == address
    assert message["Subject"]
    assert message["Date"]
    assert message["Message-ID"].endswith(f"@{DOMAIN}>")
    signature = message["DKIM-Signature"]
    assert f"d={DOMAIN}" in signature.replace(" ", "")
    assert f"s={SELECTOR}" in signature.replace(" ", "")
    assert stack.dkim_verifies(raw), "DKIM signature does not verify against the published key"
    assert not stack.dkim_verifies(raw.replace(b"Confirm", b"Konfirm")), "tampering undetected"

    links = re.findall(r"https?://\S+", _body(raw))
    assert links
    assert all(link.startswith(stack.server.url + "/") for link in links), links
    token = re.search(r"token=([A-Za-z0-9_-]+)", _body(raw))
    assert token is not None

    assert db.rows(
        "SELECT status, attempts FROM email_outbox WHERE to_address = %s AND kind = %s",
        address,
        "verify_email",
    ) == [("sent", 1)]

    logs = (stack.logs / "worker.log").read_text(errors="replace") + stack.server.log_text()
    for planted in (address, password, token.group(1), "Confirm your address"):
        assert planted not in logs


def test_smtp_outage_loses_nothing_and_sends_once(stack: MailStack, db: Database) -> None:
    stack.sink.stop()  # the relay is down
    email_address, password = signup(stack.server, db, email=unique_email("outage"))
    first = stack.worker_once()
    assert first.returncode == 0, first.stderr[-2000:]
    status, attempts, last_error, sent_at = db.rows(
        "SELECT status, attempts, last_error, sent_at FROM email_outbox "
        "WHERE to_address = %s AND kind = 'verify_email'",
        email_address,
    )[0]
    assert (status, attempts, sent_at) == ("pending", 1, None)
    assert last_error  # an error class, never text with the address
    assert email_address not in last_error

    # Retried later, not at once (backoff); then the relay comes back.
    assert db.scalar(
        "SELECT next_attempt_at > now() FROM email_outbox WHERE to_address = %s", email_address
    )
    stack.sink.start()
    wait_for(
        lambda: db.scalar(
            "SELECT next_attempt_at <= now() FROM email_outbox WHERE to_address = %s",
            email_address,
        )
    )
    third = stack.worker_once()
    assert third.returncode == 0, third.stderr[-2000:]
    fourth = stack.worker_once()
    assert fourth.returncode == 0
    delivered = stack.sink.to(email_address)
    assert len(delivered) == 1, "lost or duplicated"
    assert stack.dkim_verifies(delivered[0])
    assert db.rows(
        "SELECT status, attempts FROM email_outbox WHERE to_address = %s", email_address
    ) == [("sent", 2)]
    worker_output = first.stderr + third.stderr + fourth.stderr
    worker_output += first.stdout + third.stdout + fourth.stdout
    assert "email delivery failed" in worker_output
    assert email_address not in worker_output
    assert password not in worker_output


def test_security_notices_are_mailed(stack: MailStack, db: Database) -> None:
    address, password = signup(stack.server, db, email=unique_email("notice"))
    actor = login(stack.server, address, password)
    workspace = create_workspace(actor)
    key = create_api_key(actor, workspace, ["bots:read"])
    new_password = strong_password()
    changed = actor.post(
        "/v1/auth/password-change",
        json={"current_password": password, "new_password": new_password},
    )
    assert changed.status_code == 204, changed.text
    notice = db.last_mail(address, "api_key_created")
    assert key["key"] not in notice
    assert key["key"][:12] not in notice
    assert notice.count(stack.server.url) == 1
    assert db.last_mail(address, "password_changed")
    stack.sink.start()
    done = stack.worker_once()
    assert done.returncode == 0
    kinds = {
        email.message_from_bytes(raw, policy=email.policy.default)["Subject"]
        for raw in stack.sink.to(address)
    }
    assert {"A new API key was created", "Your password was changed"} <= kinds
