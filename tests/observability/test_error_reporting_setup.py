"""Sentry's setup in a real process: only the integrations chosen, none that reports on its own.

The SDK enables dozens of integrations by itself when their library is importable (OpenAI,
SQLAlchemy, Redis, httpx, logging, ...): the OpenAI one reported provider errors the app handles,
with the provider's text. Here a process initialises error reporting the way every process does
and prints what the SDK actually enabled.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.support import ROOT

pytestmark = pytest.mark.checklist(
    "C9",
    red="let sentry_sdk.init enable its default integrations (the OpenAI one reports provider "
    "text)",
)

SCRIPT = """
import json, sentry_sdk
from app.core.config import get_settings
from app.core.error_reporting import init_error_reporting
assert init_error_reporting(get_settings())
assert init_error_reporting(get_settings())  # the second call (create_app, worker) is a no-op
print(json.dumps(sorted(sentry_sdk.get_client().integrations)))
"""
CHOSEN = ["atexit", "dedupe", "fastapi", "modules", "starlette"]


def test_only_chosen_integrations_are_enabled() -> None:
    import openai  # noqa: F401 - importable, so the SDK would auto-enable its integration
    import sqlalchemy  # noqa: F401

    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(ROOT),
            "ENVIRONMENT": "test",
            "SENTRY_DSN": "http://public@127.0.0.1:9/1",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    enabled = json.loads(result.stdout.splitlines()[-1])
    assert enabled == CHOSEN
