"""Uncaught exceptions at the top of a process take the redacted JSON path, whatever raised them.

A real process, configured the way ``python -m app`` configures every command, lets exceptions
escape from a thread, an event-loop task, a finaliser and finally the main thread, each while a
local variable holds a planted secret and the message quotes a credential.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys

import pytest

from tests.support import ROOT

pytestmark = pytest.mark.checklist(
    "C9",
    red="let an uncaught exception in a thread, task, finaliser or the main thread print Python's"
    " default traceback instead of the redacted JSON line",
)

SCRIPT = """
import asyncio, gc, sys, threading
from app.cli import _init_observability
from app.core.logging import run

_init_observability()
local_secret, credential = sys.argv[1], sys.argv[2]


def fail(where):
    signing_secret = local_secret  # a local variable a locals-printing traceback would show
    raise RuntimeError(f"{where} failed with token={credential}")


thread = threading.Thread(target=fail, args=("thread",))
thread.start()
thread.join()


async def main():
    async def task():
        fail("task")

    asyncio.get_running_loop().create_task(task())
    await asyncio.sleep(0.05)


run(main())
gc.collect()


class Finalised:
    def __del__(self):
        fail("finaliser")


Finalised()
gc.collect()
fail("main")
"""


def test_uncaught_exceptions_everywhere_are_redacted_json() -> None:
    local_secret = "plantedlocal" + secrets.token_hex(8)
    credential = "plantedcred" + secrets.token_hex(8)
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, local_secret, credential],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "ENVIRONMENT": "test"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    events = [line["event"] for line in lines]
    assert events == [
        "uncaught exception in thread",
        "uncaught exception in event loop",
        "unraisable exception",
        "uncaught exception",
    ], result.stderr[-3000:]
    for line in lines:
        (stack,) = line["exception"]
        assert stack["exc_value"].endswith("failed with token=[redacted]")
        assert all(set(frame) == {"filename", "lineno", "name"} for frame in stack["frames"])
    assert local_secret not in result.stderr
    assert credential not in result.stderr
    assert "Traceback" not in result.stderr
