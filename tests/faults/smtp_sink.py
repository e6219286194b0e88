"""An SMTP sink in its own process for mail fault tests: aiosmtpd on loopback, slow on purpose.

``python -m tests.faults.smtp_sink PORT DIR DELAY`` saves each accepted message as
``DIR/<random>.eml`` and answers ``250`` only after ``DELAY`` seconds, so a test can SIGKILL the
worker while a batch is half sent. It prints nothing. (The app's ``mail-sink`` has no delay.)
"""

from __future__ import annotations

import asyncio
import secrets
import signal
import sys
import threading
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


class SlowSaver:
    def __init__(self, directory: Path, delay: float) -> None:
        self.directory = directory
        self.delay = delay

    async def handle_DATA(  # aiosmtpd's hook name and signature
        self,
        server: SMTP,  # noqa: ARG002
        session: Session,  # noqa: ARG002
        envelope: Envelope,
    ) -> str:
        await asyncio.sleep(self.delay)
        name = secrets.token_hex(8)
        partial = self.directory / f"{name}.part"
        partial.write_bytes(envelope.original_content or b"")
        partial.rename(self.directory / f"{name}.eml")  # a reader never sees half a file
        return "250 Message accepted"


def main() -> None:
    port, directory, delay = int(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3])
    directory.mkdir(parents=True, exist_ok=True)
    controller = Controller(SlowSaver(directory, delay), hostname="127.0.0.1", port=port)
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
