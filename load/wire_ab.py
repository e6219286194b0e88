"""CPU of one model call, the SDK's typed call against the provider's wire path, interleaved.

    python -m app model-stub --port 18777 &
    python -m load.wire_ab http://127.0.0.1:18777/v1 [--calls 50] [--rounds 8]

The same 42-message request (system prompt, a 40-message history, the new message; the shape
of a JSON turn at the history cap) goes to the model stub through
``client.chat.completions.create`` read with the SDK's chunk models, and through
``app.chat.provider.stream_completion``, alternating batches in one process; each batch's
``time.process_time()`` is this process's CPU only, so other work on the machine barely moves
it (docs/performance.md, "Round 3: the chat turn").
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any, cast

from openai import AsyncOpenAI

from app.chat.chunk_decoder import StreamMeter
from app.chat.provider import STUB_API_KEY, TextDelta, stream_completion
from load.gate import say

FILLER = "lorem ipsum dolor sit amet " * 8
MESSAGES: list[dict[str, Any]] = [
    {"role": "system", "content": "Be brief."},
    *(
        {"role": "user" if i % 2 == 0 else "assistant", "content": f"message {i} {FILLER}"}
        for i in range(40)
    ),
    {"role": "user", "content": "Tell me about the weather in three short sentences."},
]
Call = Callable[[AsyncOpenAI], Awaitable[int]]


async def sdk_call(client: AsyncOpenAI) -> int:
    stream = await client.chat.completions.create(
        model="stub-small",
        messages=cast(Any, MESSAGES),  # plain dicts, as the runner builds them
        temperature=0.7,
        max_tokens=512,
        stream=True,
        stream_options={"include_usage": True},
    )
    chars = 0
    async for chunk in stream:
        for choice in chunk.choices:
            chars += len(choice.delta.content or "")
    return chars


async def wire_call(client: AsyncOpenAI) -> int:
    chars = 0
    async for event in stream_completion(
        client,
        model="stub-small",
        messages=MESSAGES,
        tools=[],
        temperature=0.7,
        max_tokens=512,
        max_tool_calls=16,
        meter=StreamMeter(),
    ):
        if isinstance(event, TextDelta):
            chars += len(event.text)
    return chars


async def measure(base_url: str, calls: int, rounds: int) -> dict[str, list[float]]:
    client = AsyncOpenAI(api_key=STUB_API_KEY, base_url=base_url, max_retries=0)
    variants: dict[str, Call] = {"sdk typed call": sdk_call, "wire path": wire_call}
    for call in variants.values():  # warm-up: imports, connection pool
        for _ in range(20):
            await call(client)
    results: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, call in variants.items():
            started = time.process_time()
            for _ in range(calls):
                await call(client)
            results[name].append(1000 * (time.process_time() - started) / calls)
    await client.close()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base_url", help="the model stub's /v1 URL")
    parser.add_argument("--calls", type=int, default=50, help="per batch (max 1000)")
    parser.add_argument("--rounds", type=int, default=8, help="batches per variant (max 50)")
    args = parser.parse_args(argv)
    results = asyncio.run(measure(args.base_url, min(args.calls, 1000), min(args.rounds, 50)))
    for name, cpu in results.items():
        each = " ".join(f"{ms:.2f}" for ms in cpu)
        say(f"{name}: CPU ms/call median {statistics.median(cpu):.2f}, min {min(cpu):.2f} ({each})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
