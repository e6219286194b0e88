"""The model stub for the tests of this folder: one stub in uvicorn on a free loopback port per
module, reset before each test; anyio runs the SDK's coroutines on asyncio.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from app.model_stub.server import RunningStub, serve_in_thread


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def running_stub() -> Iterator[RunningStub]:
    with serve_in_thread() as running:
        yield running


@pytest.fixture
def stub(running_stub: RunningStub) -> RunningStub:
    httpx.post(f"{running_stub.url}/_stub/reset", timeout=5).raise_for_status()
    return running_stub
