"""The HTTP fetch tool, through the shared outbound-HTTP guard."""

from __future__ import annotations

from app.tools.context import ToolContext


async def fetch_for_tool(ctx: ToolContext, url: str) -> str:
    raise NotImplementedError("wired to app.core.outbound once the guard lands")
