"""Harness for the repository probes: tenant A's callers, tenant B's ids, RLS switched off.

A probe calls repository methods the way services do, with tenant A's principal (from
``principal_from_session``) or A's ``AccessibleWorkspaceID``, and B's object ids where a caller
could smuggle an id in; it asserts that nothing of B comes back (and, as a control, that A's own
row does). The runner snapshots every foreign row (B's, and A's owner's private rows when the
caller is A's member) before and after the probe, so a write path that touches one fails too.

Coverage cannot rot silently: ``public_methods()`` enumerates every public method of every
repository over a TenantMixin model (imported from every ``app/**/repository.py``), and the test
fails for one that no probe ``covers`` and ``EXEMPT`` does not argue away.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import uuid
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

import app
from app.core.models import TenantMixin
from app.core.pagination import PageParams
from app.core.repository import Repository
from app.identity.principal import Principal
from app.workspaces.access import AccessibleWorkspaceID
from tests.isolation.seed import TENANT_MODELS, Tenant, private_to_user, rows_of, table_of

PAGE = PageParams(limit=100)


@dataclass(frozen=True)
class Ctx:
    session: AsyncSession
    a: Tenant
    b: Tenant
    member: Principal  # A's member: reads only their own conversations
    owner: Principal  # A's owner: administers A (reads A's tool calls too)
    ws: AccessibleWorkspaceID  # A's workspace, as a service hands it over after its check
    left_behind: tuple[uuid.UUID, uuid.UUID]  # A's member's own conversation/message in B

    @property
    def b_ws(self) -> AccessibleWorkspaceID:
        """B's workspace *as if* a service had wrongly cast it: scoped reads stay empty."""
        return AccessibleWorkspaceID(self.b.workspace_id)


Probe = Callable[[Ctx], Awaitable[None]]
PROBES: dict[str, tuple[Probe, tuple[str, ...]]] = {}


def covers(*methods: Callable[..., Any]) -> Callable[[Probe], Probe]:
    """Register a probe for ``methods`` (``Class.method`` objects, so renames break loudly)."""

    def register(probe: Probe) -> Probe:
        _, earlier = PROBES.get(probe.__name__, (probe, ()))
        PROBES[probe.__name__] = (probe, (*earlier, *(m.__qualname__ for m in methods)))
        return probe

    return register


PROBE_MODULES = ("tests.isolation.probes_reads", "tests.isolation.probes_writes")


def all_probes() -> dict[str, tuple[Probe, tuple[str, ...]]]:
    """Every registered probe (importing the probe modules registers them)."""
    for module in PROBE_MODULES:
        importlib.import_module(module)
    assert PROBES, "no probe registered"
    return PROBES


# Public methods of tenant repositories no probe calls, each with the reason it cannot leak.
_CREDENTIAL = (
    "a credential lookup: the presented secret's hash is the authority, not a workspace "
    "(RLS capability tests/test_rls.py::test_credential_lookups_find_their_row_and_clear_the_"
    "capability; wrong or foreign tokens: tests/auth, tests/attack/test_bola.py)"
)
_CONTEXT = "sets transaction-local RLS settings only; reads and writes no row"
_OWN_CREDENTIAL_ROW = (
    "writes the row of the credential this same request just authenticated (its id comes from "
    "the lookup, never from a client); user_session is a platform table"
)
EXEMPT: dict[str, str] = {
    "PrincipalContextRepository.authenticate_api_key": _CREDENTIAL,
    "InvitationRepository.get_by_token_hash": _CREDENTIAL,
    "InvitationRepository.mark_accepted": (
        "accepts the invitation get_by_token_hash returned for the presented token in the same "
        "transaction; the invitee is joining, so no workspace of theirs could scope it"
    ),
    "PrincipalContextRepository.bind_principal": _CONTEXT,
    "PrincipalContextRepository.bind_worker_scope": _CONTEXT,
    "PrincipalContextRepository.extend_workspace_context": _CONTEXT,
    "PrincipalContextRepository.touch_session": _OWN_CREDENTIAL_ROW,
    "PrincipalContextRepository.rehash_session": _OWN_CREDENTIAL_ROW,
    "PrincipalContextRepository.touch_api_key": _OWN_CREDENTIAL_ROW,
    "PrincipalContextRepository.rehash_api_key": _OWN_CREDENTIAL_ROW,
}


def _repository_classes() -> Iterator[type[Repository[Any]]]:
    for module in pkgutil.walk_packages(app.__path__, "app."):
        if module.name.rsplit(".", 1)[-1] == "repository":
            importlib.import_module(module.name)
    pending: list[type[Repository[Any]]] = list(Repository.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        yield cls


def tenant_repositories() -> list[type[Repository[Any]]]:
    classes = {c for c in _repository_classes() if issubclass(c.model, TenantMixin)}
    return sorted(classes, key=lambda c: c.__name__)


def public_methods() -> set[str]:
    """``Class.method`` for each public method a tenant repository defines (not the generic
    ``Repository`` plumbing, which only runs statements and objects the subclasses build)."""
    names: set[str] = set()
    for cls in tenant_repositories():
        for klass in cls.__mro__[: cls.__mro__.index(Repository)]:
            names |= {
                f"{cls.__name__}.{name}"
                for name, value in vars(klass).items()
                if not name.startswith("_") and inspect.isfunction(value)
            }
    return names


async def foreign_rows(ctx: Ctx) -> dict[str, list[tuple[Any, ...]]]:
    """B's rows in every tenant table, plus A's owner's rows in tables private to one user.

    Read through the probe's own session: RLS is off, so it sees every row, including what the
    probe has flushed but not committed (the transaction is rolled back afterwards)."""
    conn = await ctx.session.connection()
    snapshot: dict[str, list[tuple[Any, ...]]] = {}
    for model in TENANT_MODELS:
        name = table_of(model).name
        snapshot[name] = await conn.run_sync(rows_of, model, ctx.b.workspace_id)
        if private_to_user(model):
            owner = ctx.a.owner.user_id
            snapshot[f"{name} of A's owner"] = await conn.run_sync(
                rows_of, model, ctx.a.workspace_id, owner
            )
    return snapshot


def ids(rows: Iterable[Any]) -> set[uuid.UUID]:
    return {row.id for row in rows}


def workspaces(rows: Iterable[Any]) -> set[uuid.UUID]:
    return {row.workspace_id for row in rows}
