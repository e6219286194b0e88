"""The development mail sink (``make run``): keeps messages in a folder, prints no secrets."""

from __future__ import annotations

import smtplib
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path

from tests.support import ROOT, free_port, run_cli, stop_process


def test_sink_saves_messages_and_prints_only_the_subject(tmp_path: Path) -> None:
    port = free_port()
    out = (tmp_path / "sink.log").open("wb")
    sink = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "app",
            "mail-sink",
            "--port",
            str(port),
            "--dir",
            str(tmp_path / "m"),
        ],
        cwd=ROOT,
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    message = EmailMessage()
    message["From"] = "no-reply@example.test"
    message["To"] = "person-secret@example.org"
    message["Subject"] = "Reset your password"
    message.set_content("Reset: http://127.0.0.1:8000/reset-password#token=plantedtoken123\n")
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with smtplib.SMTP("127.0.0.1", port, timeout=5) as client:
                    client.send_message(message)
                break
            except OSError:
                assert time.monotonic() < deadline, (tmp_path / "sink.log").read_text()
                time.sleep(0.2)
        deadline = time.monotonic() + 10
        while not list((tmp_path / "m").glob("*.eml")):
            assert time.monotonic() < deadline
            time.sleep(0.1)
    finally:
        stop_process(sink)
        out.close()
    saved = list((tmp_path / "m").glob("*.eml"))
    assert len(saved) == 1
    assert b"plantedtoken123" in saved[0].read_bytes()  # the developer can open the link
    printed = (tmp_path / "sink.log").read_text()
    assert "Reset your password" in printed
    assert "person-secret" not in printed
    assert "plantedtoken123" not in printed


def test_sink_refuses_a_public_address() -> None:
    result = run_cli({}, "mail-sink", "--host", "0.0.0.0", "--port", str(free_port()))  # noqa: S104
    assert result.returncode == 2
    assert "loopback" in result.stderr
