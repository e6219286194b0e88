"""The ``send_email`` port. Mail is written to the outbox in the caller's transaction.

So a rolled-back request sends nothing, and a committed one cannot lose its mail. The worker's
``deliver_email`` job (``app/email/jobs.py``) DKIM-signs and delivers outbox rows over SMTP
(docs/email.md).
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.email.models import OutboxEmail


async def send_email(
    session: AsyncSession, *, to: str, kind: str, subject: str, body_text: str
) -> None:
    session.add(
        OutboxEmail(id=uuid.uuid4(), to_address=to, kind=kind, subject=subject, body_text=body_text)
    )
