"""``server_factory`` (tests/servers.py): the settings given are the server's, and the server is
stopped when its block ends, also when the block fails."""

from __future__ import annotations

import httpx
import pytest

from tests.servers import ServerFactory
from tests.support import Server


def _gone(server: Server) -> bool:
    try:
        httpx.get(server.url + "/healthz", timeout=2)
    except httpx.HTTPError:
        return server.process.poll() is not None
    return False


def test_overrides_reach_the_server_and_it_stops_with_its_block(
    server_factory: ServerFactory,
) -> None:
    with server_factory(name="factory", CHAT_HISTORY_TOKENS="1234") as srv:
        assert srv.env["CHAT_HISTORY_TOKENS"] == "1234"
        assert srv.env["OPENAI_BASE_URL"] == server_factory.stub.base_url
        assert httpx.get(srv.url + "/readyz", timeout=10).status_code == 200
        assert srv in server_factory.running
    assert _gone(srv)
    assert srv not in server_factory.running


def _fail_inside(server_factory: ServerFactory, started: list[Server]) -> None:
    with server_factory(name="factory-failing") as srv:
        started.append(srv)
        raise RuntimeError("the test failed")


def test_a_failing_block_still_stops_its_server(server_factory: ServerFactory) -> None:
    started: list[Server] = []
    with pytest.raises(RuntimeError, match="the test failed"):
        _fail_inside(server_factory, started)
    assert started
    assert _gone(started[0])
