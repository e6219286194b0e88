"""Chromium for every browser test: Debian's /usr/bin/chromium driven by Playwright (never
``playwright install``). Under CI a missing browser or driver is a failure, never a skip."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import IN_CI

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

try:  # Under CI a missing browser or driver is a failure, never a skip.
    from playwright.sync_api import (
        Browser,
        BrowserContext,
        Dialog,
        FilePayload,
        Page,
        Route,
        sync_playwright,
    )
except ImportError:  # pragma: no cover
    if IN_CI:
        raise
    pytest.skip("playwright is not installed (pip install -e '.[test]')", allow_module_level=True)

if not CHROMIUM.exists():  # pragma: no cover
    if IN_CI:
        pytest.fail(
            "/usr/bin/chromium is missing: .ci/run installs Debian's chromium", pytrace=False
        )
    pytest.skip(
        "/usr/bin/chromium is missing (apt-get install -y chromium)", allow_module_level=True
    )

__all__ = [
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "Browser",
    "BrowserContext",
    "Dialog",
    "FilePayload",
    "Page",
    "Route",
    "sync_playwright",
]
