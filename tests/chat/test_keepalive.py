"""A slow turn keeps its stream alive: keep-alive comments while the model is silent.

Cloudflare closes a proxied response that sends nothing for 100 s (524). The stream sends a
``: keep-alive`` comment every ``SSE_PING_SECONDS`` (at most 15 s); here a dedicated server pings
every 0.2 s and the stub pauses 1.2 s between chunks, so comments must arrive in the pauses and
no gap between received bytes may come near the pause. The events themselves are unchanged.
"""

from __future__ import annotations

import dataclasses
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.chat.streaming import sse
from tests.chat.conftest import Studio
from tests.chat.helpers import (
    marker,
    message_rows,
    messages_url,
    new_session,
    parse_sse,
    script,
)
from tests.factories.conversations import start_conversation
from tests.servers import ServerFactory
from tests.support import Database, Server, Stub, start_server, stop_server

pytestmark = pytest.mark.checklist(
    "C11",
    red="stop sending SSE keep-alive comments while the model is silent (app/chat/streaming.py), "
    "or allow SSE_PING_SECONDS above Cloudflare's idle cut",
)

PING_SECONDS = 0.2
PAUSE_MS = 1200


@pytest.fixture
def pinging(server: Server, server_factory: ServerFactory, tmp_path: Path) -> Iterator[Server]:
    overrides = {"SSE_PING_SECONDS": str(PING_SECONDS)}
    log_path = tmp_path / "server.log"
    with server_factory(server.env, log_path=log_path, overrides=overrides) as srv:
        yield srv


def _timed_chunks(
    srv: Server, studio: Studio, conversation_id: str, content: str
) -> list[tuple[float, bytes]]:
    actor = dataclasses.replace(studio.owner, server=srv)
    chunks: list[tuple[float, bytes]] = []
    with httpx.stream(
        "POST",
        srv.url + messages_url(conversation_id),
        json={"content": content},
        headers=actor.headers(),
        timeout=30,
    ) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["x-accel-buffering"] == "no"
        for chunk in response.iter_raw():
            chunks.append((time.monotonic(), chunk))
    return chunks


def test_a_silent_model_gets_keep_alive_comments(
    pinging: Server, studio: Studio, stub: Stub
) -> None:
    session = new_session()
    script(stub, session, [{"text": "slow but sure", "delay_ms": PAUSE_MS}])
    conversation_id = str(start_conversation(studio.owner, studio.bot_id)["id"])
    started = time.monotonic()
    chunks = _timed_chunks(pinging, studio, conversation_id, f"Hello {marker(session)}")
    body = b"".join(chunk for _, chunk in chunks).decode()

    assert time.monotonic() - started > 2 * PAUSE_MS / 1000  # the turn really was slow
    comments = [line for line in body.split("\n") if line.startswith(":")]
    assert len(comments) >= 4, body
    assert set(comments) == {": keep-alive"}
    arrivals = [started] + [at for at, _ in chunks]
    longest_silence = max(b - a for a, b in zip(arrivals, arrivals[1:], strict=False))
    assert longest_silence < PAUSE_MS / 1000 * 0.75, longest_silence

    events = parse_sse(body)
    assert [e.name for e in events][-1] == "done"
    assert "".join(e.data["text"] for e in events if e.name == "delta") == "slow but sure"
    done = next(e for e in events if e.name == "done")
    # Byte-compatible framing: the done event on the wire is exactly what sse() frames.
    assert sse("done", done.data).decode() in body


def test_a_sigterm_mid_turn_lets_the_turn_finish(
    server: Server, studio: Studio, stub: Stub, db: Database, tmp_path: Path
) -> None:
    """Shutdown drains: an open turn keeps streaming (and pinging) to its ``done``, the stored
    answer is complete, then the process exits; no response is cut mid-answer."""
    srv = start_server(
        server.env, tmp_path / "drain.log", overrides={"SSE_PING_SECONDS": str(PING_SECONDS)}
    )
    session = new_session()
    script(stub, session, [{"text": "one two three", "delay_ms": PAUSE_MS}])
    conversation_id = str(start_conversation(studio.owner, studio.bot_id)["id"])
    actor = dataclasses.replace(studio.owner, server=srv)
    received = b""
    signalled = False
    try:
        with httpx.stream(
            "POST",
            srv.url + messages_url(conversation_id),
            json={"content": f"Hello {marker(session)}"},
            headers=actor.headers(),
            timeout=30,
        ) as response:
            for chunk in response.iter_raw():
                received += chunk
                if not signalled and b"event: delta" in received:
                    srv.process.send_signal(signal.SIGTERM)
                    signalled = True
        srv.process.wait(timeout=15)
    finally:
        stop_server(srv)
    assert signalled
    after_signal = received.split(b"event: delta", 1)[1]
    assert b": keep-alive" in after_signal
    events = parse_sse(received.decode())
    assert events[-1].name == "done"
    assert "".join(e.data["text"] for e in events if e.name == "delta") == "one two three"
    assert message_rows(db, conversation_id)[-1][:2] == ("assistant", "complete")
    assert "without completing response" not in srv.log_text()


def test_the_interval_is_bounded_by_the_edge_timeout() -> None:
    from pydantic import ValidationError

    from app.core.config import Settings

    assert Settings().sse_ping_seconds <= 15
    with pytest.raises(ValidationError):
        Settings(sse_ping_seconds=16)
    with pytest.raises(ValidationError):
        Settings(sse_ping_seconds=0)
