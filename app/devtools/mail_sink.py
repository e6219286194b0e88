"""Development mail sink (``python -m app mail-sink``): aiosmtpd on loopback, for ``make run``.

Each message is written to ``--dir`` (default ``.data/mail/``, git-ignored) as a ``.eml`` file so
a developer can open a verification or reset link; the console gets one line per message with
the subject and the file name only, never the recipient, body or links (terminal scrollback and
CI logs are not a mailbox). Refuses any non-loopback address.
"""

from __future__ import annotations

import email
import email.policy
import ipaddress
import secrets
import threading
from datetime import UTC, datetime
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


class NotLoopback(ValueError):
    pass


class _SaveToDirectory:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def handle_DATA(  # aiosmtpd's hook name and signature
        self,
        server: SMTP,  # noqa: ARG002
        session: Session,  # noqa: ARG002
        envelope: Envelope,
    ) -> str:
        raw = envelope.original_content or b""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        path = self.directory / f"{stamp}-{secrets.token_hex(4)}.eml"
        path.write_bytes(raw)
        subject = email.message_from_bytes(raw, policy=email.policy.default).get("Subject", "")
        print(f"mail-sink: {subject!r} -> {path}", flush=True)
        return "250 Message accepted"


def start_sink(host: str, port: int, directory: Path) -> Controller:
    if not ipaddress.ip_address(host).is_loopback:
        raise NotLoopback("the mail sink listens on loopback only")
    directory.mkdir(parents=True, exist_ok=True)
    controller = Controller(_SaveToDirectory(directory), hostname=host, port=port)
    controller.start()
    return controller


def serve(host: str, port: int, directory: Path) -> None:
    controller = start_sink(host, port, directory)
    print(f"mail-sink: smtp://{host}:{port}, messages saved in {directory}/", flush=True)
    stop = threading.Event()
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()
