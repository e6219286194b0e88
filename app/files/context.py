"""What the bot may read of files: attachments in the prompt and the ``search_files`` tool.

Only clean files of the conversation's workspace reach here (scoped queries + RLS), and only
text-like ones are read as text: plain, Markdown, CSV, JSON, and the text of docx documents
(``word/document.xml`` read within the archive limits, tags stripped by a regex: no XML parser,
so no entity expansion). Every read is capped (``FILE_TEXT_MAX_CHARS``). A deleted file's
attachment links are gone with it, so it never re-enters a later prompt.
"""

from __future__ import annotations

import html
import re
import tempfile
import uuid
from collections.abc import Sequence
from pathlib import Path

import anyio.to_thread
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.files.archives import DOCX, ArchiveRefused, read_member
from app.files.models import File
from app.files.repository import FileRepository, MessageFileRepository
from app.files.storage import Storage, StorageError, shared_storage
from app.identity.principal import Principal
from app.workspaces.access import AccessibleWorkspaceID

PLAIN_TYPES = frozenset({"text/plain", "text/markdown", "text/csv", "application/json"})
DOCX_XML_FACTOR = 8  # document.xml carries markup around the text: read this much more
_PARAGRAPH_END = re.compile(r"</w:p>")
_TAG = re.compile(r"<[^>]{0,2000}>")
SEARCH_CANDIDATES = 20
SNIPPET_CHARS = 300


async def _read_prefix(storage: Storage, key: str, limit: int) -> bytes:
    data = bytearray()
    async for chunk in storage.read(key):
        data += chunk[: limit - len(data)]
        if len(data) >= limit:
            break
    return bytes(data)


def _docx_text(path: Path, settings: Settings) -> str:
    xml = read_member(
        path,
        "word/document.xml",
        limit=settings.file_text_max_chars * DOCX_XML_FACTOR,
        max_entries=settings.file_archive_max_entries,
    ).decode("utf-8", "ignore")
    return html.unescape(_TAG.sub("", _PARAGRAPH_END.sub("\n", xml)))


async def _docx(storage: Storage, file: File, settings: Settings) -> str:
    with tempfile.NamedTemporaryFile(prefix="lp-docx-") as handle:
        async for chunk in storage.read(file.storage_key):
            await anyio.to_thread.run_sync(handle.write, chunk)
        await anyio.to_thread.run_sync(handle.flush)
        return await anyio.to_thread.run_sync(_docx_text, Path(handle.name), settings)


async def read_text(file: File, settings: Settings) -> str | None:
    """The file's text, capped; None for types the bot cannot read or unreadable files."""
    storage = shared_storage(settings)
    cap = settings.file_text_max_chars
    try:
        if file.content_type in PLAIN_TYPES:
            raw = await _read_prefix(storage, file.storage_key, cap * 4)
            return raw.decode("utf-8", "ignore")[:cap]
        if file.content_type == DOCX:
            return (await _docx(storage, file, settings))[:cap]
    except (StorageError, ArchiveRefused):
        return None
    return None


def _block(file: File, text: str | None) -> str:
    header = f"[Attached file: {file.display_name} ({file.content_type})]"
    if text is None:
        return header + " (content not readable as text)"
    return f"{header}\n{text}"


async def attachment_blocks(
    session: AsyncSession,
    principal: Principal,
    settings: Settings,
    workspace_id: AccessibleWorkspaceID,
    message_ids: Sequence[uuid.UUID],
) -> dict[uuid.UUID, str]:
    """Per message, the text of its still-existing clean attachments, ready for the prompt."""
    blocks: dict[uuid.UUID, list[str]] = {}
    rows = await MessageFileRepository(session).attached_files(principal, workspace_id, message_ids)
    for message_id, file in rows:
        blocks.setdefault(message_id, []).append(_block(file, await read_text(file, settings)))
    return {message_id: "\n\n".join(parts) for message_id, parts in blocks.items()}


async def search_files(
    session: AsyncSession,
    principal: Principal,
    settings: Settings,
    workspace_id: AccessibleWorkspaceID,
    query: str,
    limit: int,
) -> list[dict[str, str]]:
    """Snippets around ``query`` in the newest clean text-like files of this one workspace."""
    needle = query.casefold()
    results: list[dict[str, str]] = []
    candidates = await FileRepository(session).text_candidates(
        principal, workspace_id, SEARCH_CANDIDATES
    )
    for file in candidates:
        text = await read_text(file, settings) or ""
        at = text.casefold().find(needle)
        if at < 0 and needle not in file.display_name.casefold():
            continue
        start = max(at - SNIPPET_CHARS // 2, 0) if at >= 0 else 0
        results.append(
            {
                "file_id": str(file.id),
                "name": file.display_name,
                "snippet": text[start : start + SNIPPET_CHARS],
            }
        )
        if len(results) >= limit:
            break
    return results
