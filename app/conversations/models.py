from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import DateTime, Enum, ForeignKey, Index, Integer, String, Text, column, func
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, IDMixin, TenantMixin, TimestampMixin


class Conversation(IDMixin, TimestampMixin, TenantMixin, Base):
    """One user's conversation with one bot. Private to that user (RLS: ``user_id``)."""

    __tablename__ = "conversation"
    __private_to_user__ = True

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspace.id", ondelete="CASCADE"), index=True, nullable=False
    )
    bot_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("bot.id", ondelete="CASCADE"), index=True, nullable=False
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True, nullable=False
    )
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    last_message_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class MessageRole(StrEnum):
    USER = "user"
    ASSISTANT = "assistant"


class MessageStatus(StrEnum):
    COMPLETE = "complete"
    STREAMING = "streaming"
    INCOMPLETE = "incomplete"  # the client went away mid-answer
    FAILED = "failed"  # the turn could not finish (``error_code`` says why)


def _enum(cls: type[StrEnum], name: str) -> Enum:
    return Enum(cls, name=name, values_callable=lambda e: [m.value for m in e])


class Message(IDMixin, TimestampMixin, TenantMixin, Base):
    """A turn. Carries ``workspace_id`` and the conversation owner's ``user_id`` directly so the
    RLS policy needs no join."""

    __tablename__ = "message"
    __private_to_user__ = True
    __table_args__ = (
        Index(
            "uq_message_idempotency",
            "conversation_id",
            "idempotency_key",
            unique=True,
            postgresql_where=column("idempotency_key").isnot(None),
        ),
        Index("ix_message_conversation_created", "conversation_id", "created_at"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspace.id", ondelete="CASCADE"), index=True, nullable=False
    )
    conversation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("conversation.id", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False
    )
    role: Mapped[MessageRole] = mapped_column(_enum(MessageRole, "message_role"), nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[MessageStatus] = mapped_column(
        _enum(MessageStatus, "message_status"), nullable=False
    )
    # On user messages: the client's Idempotency-Key; on assistant messages: None.
    idempotency_key: Mapped[str | None] = mapped_column(String(100))
    # On assistant messages: the user message they answer.
    reply_to_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("message.id", ondelete="CASCADE")
    )
    model: Mapped[str | None] = mapped_column(String(100))
    prompt_tokens: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # On ``failed``/``incomplete`` assistant messages: why the turn ended (a stable code, never
    # upstream text); replayed to a retry with the same Idempotency-Key.
    error_code: Mapped[str | None] = mapped_column(String(64))
    # clock_timestamp(), not now(): a user message and its reply are inserted in one transaction
    # and must still sort in the order they were written.
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.clock_timestamp(), nullable=False
    )


class TurnLease(Base):
    """A platform row (ids and times only, no tenant data) for each assistant message that is
    ``streaming``: the process streaming it pushes ``expires_at`` ahead while it runs. A row whose
    lease has passed belongs to a process that died; the worker ends that turn
    (``app/chat/jobs.py``). Deleted in the transaction that ends the turn."""

    __tablename__ = "turn_lease"

    message_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("message.id", ondelete="CASCADE"), primary_key=True
    )
    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspace.id", ondelete="CASCADE"), nullable=False
    )
    # The conversation owner: messages are private to them, so the worker binds this user too.
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False
    )
    expires_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, index=True
    )
    # What the turn would be charged if its process died now: the prompt estimate (written once)
    # and the characters streamed so far (written with each renewal).
    prompt_tokens: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    streamed_chars: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
