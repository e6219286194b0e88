"""A real ``clamd`` for tests, with a generated signature database that detects EICAR only.

ClamAV's public databases cannot be downloaded here (and are 200+ MB); a one-line ``.ndb`` body
signature for the EICAR test string makes the real daemon, speaking the real INSTREAM protocol,
detect it anywhere in a stream (docs/files.md, ../shared/RECIPES.md section 3). Under CI=true a
missing ``clamd`` binary fails the tests instead of skipping them.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import IN_CI, free_port

# The EICAR anti-malware test file (eicar.org), assembled at runtime so this source file is not
# itself flagged by scanners on developers' machines.
EICAR = b"".join(
    (b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$", b"EICAR-STANDARD-ANTIVIRUS-", b"TEST-FILE!$H+H*")
)
SIGNATURE = "Launchproof.Test.EICAR"


@dataclass
class Clamd:
    port: int
    process: subprocess.Popen[bytes]
    state: Path

    @property
    def url(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"


def clamd_binary() -> str:
    found = shutil.which("clamd") or (
        "/usr/sbin/clamd" if Path("/usr/sbin/clamd").exists() else None
    )
    if found is None:
        message = "clamd is not installed (Debian: apt-get install clamav-daemon)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return found


def _ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"zPING\0")
            return sock.recv(16).startswith(b"PONG")
    except OSError:
        return False


def start_clamd(state: Path, port: int | None = None) -> Clamd:
    """Start clamd on ``port`` (a free one by default; the same one to bring it back)."""
    binary = clamd_binary()
    database = state / "db"
    database.mkdir(parents=True, exist_ok=True)
    (database / "launchproof-test.ndb").write_text(f"{SIGNATURE}:0:*:{EICAR.hex()}\n")
    port = port or free_port()
    config = state / "clamd.conf"
    config.write_text(
        "\n".join(
            (
                f"DatabaseDirectory {database}",
                f"TCPSocket {port}",
                "TCPAddr 127.0.0.1",
                "Foreground yes",
                f"LogFile {state / 'clamd.log'}",
                f"PidFile {state / 'clamd.pid'}",
                "StreamMaxLength 30M",
                "MaxThreads 4",
                "SelfCheck 0",
                "",
            )
        )
    )
    process = subprocess.Popen(
        [binary, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"clamd exited: {(state / 'clamd.log').read_text(errors='replace')}")
        if _ping(port):
            return Clamd(port=port, process=process, state=state)
        time.sleep(0.05)
    process.kill()
    raise RuntimeError("clamd did not answer PING in 30 s")


def stop_clamd(clamd: Clamd) -> None:
    clamd.process.terminate()
    try:
        clamd.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        clamd.process.kill()
