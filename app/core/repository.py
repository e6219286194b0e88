"""Repository base: every SQL statement lives in a repository bound to one session."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import CTE, Integer, Row, Select, and_, bindparam, or_
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.models import Base
from app.core.pagination import PageParams, decode_cursor, encode_cursor

M = TypeVar("M", bound=Base)
T = TypeVar("T")


@dataclass(frozen=True)
class PageResult(Generic[T]):
    items: list[T]
    next_cursor: str | None


@dataclass(frozen=True)
class KeysetQuery:
    """A list statement built once, newest first: the first page and the page after a cursor.

    Besides the caller's own parameters they bind ``page_limit`` and (after a cursor)
    ``after_at``/``after_id``. Built at import, so a request builds no expression and no
    compiled-cache key for its list (docs/performance.md, "Round 4"); ``Repository.page_rows``
    runs them.
    """

    first: Select[Any]
    after: Select[Any]


@dataclass(frozen=True)
class Carried:
    """Writes another repository's statement carries (data-modifying CTEs), built once.

    ``ctes`` are module-level constants of the repository that owns the writes, with a bind
    parameter for every per-call value; ``values`` are this call's values for them (names
    prefixed by the owner, so two carried writes never share one). The carrying statement is
    then built once per *shape* (which constants it carries), not per call, and a turn builds
    no expression and no compiled-cache key for it (docs/performance.md, "Round 4").
    """

    ctes: tuple[CTE, ...]
    values: Mapping[str, Any]


def carried_values(writes: Sequence[Carried]) -> dict[str, Any]:
    """The bind values of all ``writes``, refusing a name two of them bind (a typo there
    would silently give one write the other's value)."""
    values: dict[str, Any] = {}
    for write in writes:
        if values.keys() & write.values.keys():
            raise ValueError("two carried writes bind the same parameter")
        values.update(write.values)
    return values


def keyset_query(statement: Select[Any], model: Any, created: Any = None) -> KeysetQuery:
    created = created if created is not None else model.created_at
    order = (created.desc(), model.id.desc())
    limit = bindparam("page_limit", type_=Integer)
    after_at = bindparam("after_at", type_=created.type)
    past = or_(created < after_at, and_(created == after_at, model.id < bindparam("after_id")))
    return KeysetQuery(
        first=statement.order_by(*order).limit(limit),
        after=statement.where(past).order_by(*order).limit(limit),
    )


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
        rows = list(await self.get_all(self._keyset(statement, params, created_column)))
        return self._page(rows, params)

    async def paginate_rows(
        self,
        statement: Select[Any],
        params: PageParams,
        *,
        created_column: Any = None,
    ) -> PageResult[Row[Any]]:
        """``paginate`` for read-only lists: plain rows through the session's connection (its
        transaction and RLS context), without ORM instances. Building 21 tracked entities was
        a large share of a 20-item list's CPU (docs/performance.md); a list endpoint whose
        schema reads columns needs none of their identity map or change tracking."""
        connection = await self.session.connection()
        statement = self._keyset(statement, params, created_column)
        rows = list((await connection.execute(statement)).all())
        return self._page(rows, params)

    async def page_rows(
        self, query: KeysetQuery, params: PageParams, values: dict[str, Any]
    ) -> PageResult[Row[Any]]:
        """``paginate_rows`` for a prebuilt ``KeysetQuery``: the same rows, the same cursor."""
        connection = await self.session.connection()
        statement, bound = query.first, {**values, "page_limit": params.limit + 1}
        if params.cursor:
            created_at, row_id = decode_cursor(params.cursor)
            statement, bound = query.after, {**bound, "after_at": created_at, "after_id": row_id}
        rows = list((await connection.execute(statement, bound)).all())
        return self._page(rows, params)

    def _keyset(self, statement: Select[Any], params: PageParams, created_column: Any) -> Any:
        model: Any = self.model
        created = created_column if created_column is not None else model.created_at
        if params.cursor:
            created_at, row_id = decode_cursor(params.cursor)
            statement = statement.where(
                or_(created < created_at, and_(created == created_at, model.id < row_id))
            )
        return statement.order_by(created.desc(), model.id.desc()).limit(params.limit + 1)

    @staticmethod
    def _page(rows: list[T], params: PageParams) -> PageResult[T]:
        next_cursor = None
        if len(rows) > params.limit:
            rows = rows[: params.limit]
            last: Any = rows[-1]
            next_cursor = encode_cursor(last.created_at, last.id)
        return PageResult(items=rows, next_cursor=next_cursor)
