"""Revision ids for new migrations, the way the existing ones are named: ``0010_create_things``.

Alembic's default id is a random hex string; the project numbers revisions so ``alembic history``
reads in order and a file's date-stamped name (alembic.ini ``file_template``) and its id agree.
migrations/env.py applies this to ``alembic revision`` (and ``make migration``).
"""

from __future__ import annotations

import re

# alembic_version.version_num is VARCHAR(32): the number, an underscore, at most 27 more.
MAX_REVISION_ID = 32
_WORD = re.compile(r"\w+")


def next_revision_id(heads: tuple[str, ...], message: str | None) -> str:
    """``NNNN_slug``: one past the highest numbered head, slug from the message (as alembic's)."""
    numbers = [int(head.split("_", 1)[0]) for head in heads if head.split("_", 1)[0].isdigit()]
    prefix = f"{max(numbers, default=0) + 1:04d}"
    slug = "_".join(_WORD.findall(message or "")).lower() or "revision"
    room = MAX_REVISION_ID - len(prefix) - 1
    if len(slug) > room:
        cut = slug[:room]
        slug = cut.rsplit("_", 1)[0] if "_" in cut else cut
    return f"{prefix}_{slug}"
