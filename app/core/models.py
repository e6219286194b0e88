"""Declarative base: naming convention, UUID keys, timestamps."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, MetaData, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    # Server defaults (created_at) come back through RETURNING on insert: no lazy refresh,
    # which in async code would be a MissingGreenlet error.
    __mapper_args__ = {"eager_defaults": True}


class IDMixin:
    # Random UUIDs (never sequential): an id says nothing about how many rows exist or which
    # comes next, and guessing one is hopeless.
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)


def _not_updated_yet() -> None:
    """A row starts with ``updated_at`` NULL, as before, but said on the Python side.

    With ``eager_defaults`` the ORM re-reads every ``onupdate`` column an INSERT left out, one
    extra ``SELECT`` per inserted row; a Python-side insert default puts the NULL into the
    INSERT itself and into the object, so there is nothing left to fetch.
    """
    return None


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    updated_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), default=_not_updated_yet, onupdate=func.now(), nullable=True
    )


class TenantMixin:
    """Marks a workspace-owned table: it carries ``workspace_id`` and must have forced RLS.

    The architecture test checks that every model with this mixin has a row-level-security
    policy in the database and that its repository exposes only scoped getters.
    """

    __tenant__ = True
