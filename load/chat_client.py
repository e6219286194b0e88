"""One measured turn each way: straight to the stub, through Launchproof (SSE or JSON).

All times are ``time.perf_counter()`` differences taken in the client, in milliseconds, from just
before the request is sent. "First token" is the first non-empty content delta (the stub's first
chunk only carries the role, as OpenAI's does); "total" is the end of the stub's stream (after
``[DONE]``) or Launchproof's ``done`` event.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any, cast

import httpx
import psycopg
from openai import AsyncOpenAI

REPLY_WORDS = 50  # "Echo:" + the 49 words sent
_WORDS = (
    "ant bee cat dog elk fox gnu hen jay koi owl pig ram yak emu cod eel bat asp ape "
    "sun sky sea air ice oak elm fir ivy fig nut pea yam rye oat hay bud"
).split()
SSE_ACCEPT = {"Accept": "text/event-stream"}
JSON_ACCEPT = {"Accept": "application/json"}
POLL_INTERVAL_S = 0.002  # superuser visibility polls in the persistence phase
VISIBLE_TIMEOUT_S = 5.0


def user_text(seq: int) -> str:
    """49 words in 198 characters: the stub echoes all of them (it keeps 200), a 50-word reply."""
    words = [f"t{seq % 0xFFFFF:05x}"]
    words += [_WORDS[(seq + i) % len(_WORDS)] for i in range(48)]
    return " ".join(words)


def ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000


@dataclass
class Sample:
    """One turn. Fields that do not apply to a kind stay ``None``."""

    kind: str
    concurrency: int
    seq: int
    total_ms: float = 0.0
    ttft_ms: float | None = None
    headers_ms: float | None = None
    tail_ms: float | None = None  # last content delta -> end of stream / ``done``
    deltas: int = 0
    user_commit_ms: float | None = None  # persistence phase: POST -> user row committed
    done_to_visible_ms: float | None = None  # persistence phase: done -> GET shows complete
    visible_reads: int | None = None
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, repr=False)


def _check_reply(sample: Sample, text: str) -> None:
    words = len(text.split())
    if sample.error is None and words != REPLY_WORDS:
        sample.error = f"reply has {words} words, expected {REPLY_WORDS}"


async def direct_turn(
    client: AsyncOpenAI, request: dict[str, Any], content: str, sample: Sample
) -> Sample:
    """The same completion request Launchproof sends, straight to the stub with the SDK."""
    messages = [*request["messages"][:-1], {"role": "user", "content": content}]
    parts: list[str] = []
    start = time.perf_counter()
    stream = await client.chat.completions.create(
        model=request["model"],
        messages=cast(Any, messages),
        temperature=request.get("temperature"),
        max_tokens=request.get("max_tokens"),
        stream=True,
        stream_options={"include_usage": True},
    )
    last = start
    async for chunk in stream:
        for choice in chunk.choices:
            if choice.delta.content:
                last = time.perf_counter()
                if sample.ttft_ms is None:
                    sample.ttft_ms = (last - start) * 1000
                sample.deltas += 1
                parts.append(choice.delta.content)
    end = time.perf_counter()
    sample.total_ms = (end - start) * 1000
    sample.tail_ms = (end - last) * 1000
    _check_reply(sample, "".join(parts))
    return sample


async def sse_turn(
    http: httpx.AsyncClient, conversation_id: str, content: str, sample: Sample
) -> Sample:
    """``POST .../messages`` as an event stream; the stored turn arrives in ``done``."""
    url = f"/v1/conversations/{conversation_id}/messages"
    start = time.perf_counter()
    last = start
    done: dict[str, Any] | None = None
    async with http.stream("POST", url, json={"content": content}, headers=SSE_ACCEPT) as resp:
        sample.headers_ms = ms(start)
        if resp.status_code != 200:
            await resp.aread()
            sample.error = f"HTTP {resp.status_code}"
            return sample
        buffer = b""
        async for chunk in resp.aiter_bytes():
            now = time.perf_counter()
            *blocks, buffer = (buffer + chunk).split(b"\n\n")
            for block in blocks:  # "event: NAME\ndata: JSON" (app/chat/streaming.py)
                name, _, data = block.partition(b"\ndata: ")
                if name == b"event: delta":
                    last = now
                    if sample.ttft_ms is None:
                        sample.ttft_ms = (now - start) * 1000
                    sample.deltas += 1
                elif name == b"event: done":
                    sample.total_ms = (now - start) * 1000
                    sample.tail_ms = (now - last) * 1000
                    done = json.loads(data)
                elif name == b"event: error":
                    sample.error = f"SSE error {data.decode(errors='replace')}"
    if done is None:
        sample.error = sample.error or "stream ended without done"
        return sample
    message = done["message"]
    if message["status"] != "complete":
        sample.error = f"assistant status {message['status']}"
    sample.extra = {"message_id": message["id"], "user_message_id": done["user_message_id"]}
    _check_reply(sample, message["content"])
    return sample


async def json_turn(
    http: httpx.AsyncClient, conversation_id: str, content: str, sample: Sample
) -> Sample:
    """``POST .../messages`` with ``Accept: application/json``: one answer at the end."""
    start = time.perf_counter()
    resp = await http.post(
        f"/v1/conversations/{conversation_id}/messages",
        json={"content": content},
        headers=JSON_ACCEPT,
    )
    sample.total_ms = ms(start)
    if resp.status_code != 200:
        sample.error = f"HTTP {resp.status_code}"
        return sample
    message = resp.json()["message"]
    if message["status"] != "complete":
        sample.error = f"assistant status {message['status']}"
    _check_reply(sample, message["content"])
    return sample


async def _poll_user_row(
    db: psycopg.AsyncConnection[Any], conversation_id: str, content: str, start: float
) -> float | None:
    """Milliseconds from ``start`` until the user's row is visible to another connection."""
    deadline = start + VISIBLE_TIMEOUT_S
    while time.perf_counter() < deadline:
        cursor = await db.execute(
            "SELECT 1 FROM message WHERE conversation_id = %s AND role = 'user' AND content = %s",
            (conversation_id, content),
        )
        if await cursor.fetchone() is not None:
            return ms(start)
        await asyncio.sleep(POLL_INTERVAL_S)
    return None


async def persistence_turn(
    http: httpx.AsyncClient,
    db: psycopg.AsyncConnection[Any],
    conversation_id: str,
    content: str,
    sample: Sample,
) -> Sample:
    """A streamed turn plus two visibility measures (see docs/performance.md, "Method").

    1. POST -> user row committed: a superuser connection polls for the row while the request
       runs (resolution: one poll, ``POLL_INTERVAL_S`` plus a query).
    2. ``done`` -> the assistant row reads back ``complete`` through ``GET .../messages``
       (re-read until it does; ``visible_reads`` counts the GETs).
    """
    start = time.perf_counter()
    poll = asyncio.create_task(_poll_user_row(db, conversation_id, content, start))
    try:
        await sse_turn(http, conversation_id, content, sample)
        sample.user_commit_ms = await poll
    finally:
        poll.cancel()
    if sample.error is not None:
        return sample
    if sample.user_commit_ms is None:
        sample.error = "user row not visible"
        return sample
    done_at = start + sample.total_ms / 1000
    wanted = sample.extra["message_id"]
    reads = 0
    while time.perf_counter() - done_at < VISIBLE_TIMEOUT_S:
        reads += 1
        resp = await http.get(f"/v1/conversations/{conversation_id}/messages", params={"limit": 2})
        resp.raise_for_status()
        items = resp.json()["items"]
        if any(m["id"] == wanted and m["status"] == "complete" for m in items):
            sample.done_to_visible_ms = ms(done_at)
            sample.visible_reads = reads
            return sample
    sample.error = "assistant row not complete in time"
    return sample
