from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, IDMixin


class OutboxEmail(IDMixin, Base):
    """A platform e-mail written in the transaction that caused it.

    In development and tests this table *is* the mailbox (tests read links from it); the e-mail
    issue adds the worker that signs and sends these over SMTP. Never logged: bodies carry tokens.
    """

    __tablename__ = "email_outbox"

    to_address: Mapped[str] = mapped_column(String(320), nullable=False)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    subject: Mapped[str] = mapped_column(String(200), nullable=False)
    body_text: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
