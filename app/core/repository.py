"""Repository base: every SQL statement lives in a repository bound to one session."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, and_, or_
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.models import Base
from app.core.pagination import PageParams, decode_cursor, encode_cursor

M = TypeVar("M", bound=Base)


@dataclass(frozen=True)
class PageResult(Generic[M]):
    items: list[M]
    next_cursor: str | None


class Repository(Generic[M]):
    model: type[M]

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_one_or_none(self, statement: Select[M]) -> M | None:
        result = await self.session.execute(statement)
        return result.scalars().unique().one_or_none()

    async def get_all(self, statement: Select[M]) -> Sequence[M]:
        result = await self.session.execute(statement)
        return result.scalars().unique().all()

    async def create(self, obj: M, *, flush: bool = True) -> M:
        self.session.add(obj)
        if flush:
            await self.session.flush()
        return obj

    async def delete(self, obj: M) -> None:
        await self.session.delete(obj)
        await self.session.flush()

    async def flush(self) -> None:
        await self.session.flush()

    async def paginate(
        self,
        statement: Select[M],
        params: PageParams,
        *,
        created_column: Any = None,
    ) -> PageResult[M]:
        """Newest first, keyset on (created_at, id)."""
        model: Any = self.model
        created = created_column if created_column is not None else model.created_at
        if params.cursor:
            created_at, row_id = decode_cursor(params.cursor)
            statement = statement.where(
                or_(created < created_at, and_(created == created_at, model.id < row_id))
            )
        statement = statement.order_by(created.desc(), model.id.desc()).limit(params.limit + 1)
        rows = list(await self.get_all(statement))
        next_cursor = None
        if len(rows) > params.limit:
            rows = rows[: params.limit]
            last: Any = rows[-1]
            next_cursor = encode_cursor(last.created_at, last.id)
        return PageResult(items=rows, next_cursor=next_cursor)
