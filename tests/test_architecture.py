"""The layering rules, enforced mechanically (conventions 3, 5, 6, 10, 15, 16, 17).

Source checks read ``app/`` with ``ast`` (never regexes over text, so comments and strings do not
count); the tenant-repository and relationship checks inspect the imported classes. Every
exception is listed below by file or by method, with its reason: an allowlist that grows needs a
reviewer, not a quiet edit.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy.orm import RelationshipProperty

import app.models  # noqa: F401 - registers every mapped class
from app.api import api_router
from app.core.models import Base, TenantMixin
from app.core.repository import Repository
from app.identity.principal import Principal
from app.workspaces.access import AccessibleWorkspaceID
from tests.architecture_source import (
    ROOT,
    Module,
    imported_modules,
    method_calls,
    modules,
    sql_constructor_calls,
)

# --- Allowlists (keep them tiny; each entry says why) ----------------------------------------

# Raw SQL strings (``text(...)``): only the role/readiness probe. Everything else is ORM-typed.
RAW_SQL_ALLOWED = frozenset({"app/health/repository.py"})
# Calls that run SQL on a session/connection. Receivers are recognised by name (``session``,
# ``self.session``, ``conn``, ``connection``, ``engine``, ``db``), so a future ``tool.execute()``
# is not mistaken for SQL.
EXECUTE_METHODS = frozenset(
    {"execute", "scalar", "scalars", "stream", "stream_scalars", "exec_driver_sql"}
)
DB_RECEIVER_HINTS = ("session", "conn", "engine", "db")
# By-primary-key loads skip every scope: ``session.get(Workspace, id)`` is an unscoped getter.
SESSION_GETTERS = frozenset({"get", "get_one"})
# Development/test bootstrap: DDL over a raw asyncpg superuser connection, never in production.
DRIVER_SQL_ALLOWED_DIRS = ("app/devtools/",)
# Nobody commits or rolls back by hand but the request unit of work itself (commit at the edge,
# and ``commit_early`` for a JSON chat turn); every other owner of a transaction uses
# ``session.begin()`` as a context manager, which commits on success and rolls back on errors.
COMMIT_ALLOWED: frozenset[str] = frozenset({"app/core/db.py"})
# The only places that own a transaction (``session.begin()``).
TRANSACTION_OWNERS = frozenset(
    {
        "app/core/db.py",  # the request unit of work (autobegin; commits at the edge)
        "app/auth/jobs.py",  # the credential purge: one transaction per round
        "app/audit/service.py",  # record_detached: a failed login's event outlives its rollback
        "app/auth/mfa/notices.py",  # a failed factor's audit, mail and count outlive the rollback
        "app/auth/passkeys/ceremony.py",  # a WebAuthn challenge is spent even if its check fails
        "app/users/admin_cli.py",  # the create-user command
        "app/chat/runner.py",  # a streamed answer outlives its request (CONVENTIONS rule 18)
        "app/chat/jobs.py",  # the orphaned-turn sweeper: claim expired leases, end each turn
        # E-mail delivery job: claim, then send with no transaction open, then record.
        "app/email/jobs.py",
        # Files scan job: claim, scan with no transaction open, then record (app/files/jobs.py).
        "app/files/jobs.py",
        # Webhook jobs: claim + lease, send with no transaction open, then record; inbound
        # events are processed and marked in one transaction (app/webhooks/jobs.py).
        "app/webhooks/jobs.py",
    }
)
# Routers call services; a router that imports a repository has skipped the service layer.
ROUTER_REPOSITORY_IMPORTS_ALLOWED = frozenset(
    {"app/health/router.py"}  # /readyz runs DatabaseProbe.ping (SELECT 1): there is no domain
)
# Public methods of tenant repositories that take neither a Principal nor an AccessibleWorkspaceID.
UNSCOPED_METHODS_ALLOWED: dict[tuple[str, str], str] = {
    # Authentication runs before a Principal exists: these find rows by a presented credential's
    # keyed hash, or by the user id that credential just proved, and bind the RLS context.
    ("PrincipalContextRepository", "authenticate_session"): "credential lookup (session token)",
    ("PrincipalContextRepository", "authenticate_api_key"): "credential lookup (API key hash)",
    ("PrincipalContextRepository", "extend_workspace_context"): "writes context, reads nothing",
    # A job acts for no user: it binds the one workspace its (platform-table) job row names.
    ("PrincipalContextRepository", "bind_worker_scope"): "writes context, reads nothing",
    ("PrincipalContextRepository", "touch_session"): "user_session is a platform table",
    ("PrincipalContextRepository", "touch_api_key"): "the key that just authenticated",
    # Lazy re-hash after a SECRET_KEY rotation, of the credential that just authenticated.
    ("PrincipalContextRepository", "rehash_session"): "user_session is a platform table",
    ("PrincipalContextRepository", "rehash_api_key"): "the key that just authenticated",
    ("InvitationRepository", "get_by_token_hash"): "credential lookup (invitation token)",
    # Claims the invitation just found by its token; its UPDATE policy still needs the workspace
    # in the RLS context, which only the accept service adds.
    ("InvitationRepository", "mark_accepted"): "single-use claim after the token lookup",
}
# Routes whose 200 body is a file's bytes (documented in responses=), not a JSON model.
BINARY_ROUTES = frozenset({("/v1/files/{file_id}/content", "GET")})  # files: the download
# config.py is one flat list of documented settings, not logic: it grows with every setting.
SIZE_BUDGET = {"router.py": 250, "schemas.py": 300, "config.py": 450}
DEFAULT_SIZE_BUDGET = 400
# The tests and the load harness: one budget for every module, helpers and test modules alike.
TEST_TREES = ("tests", "load")
TEST_SIZE_BUDGET = 400


# --- SQL lives in repositories --------------------------------------------------------------


@pytest.mark.checklist(
    "C2",
    red="build a select() outside a repository.py, e.g. in a service or router",
)
def test_sql_is_built_only_in_repositories() -> None:
    offenders = [
        f"{module.where(call)} {name}("
        for module in modules()
        if not module.is_repository
        for name, call in sql_constructor_calls(module)
    ]
    assert offenders == [], "SQL outside repository.py files (rule 6)"


def test_raw_sql_text_only_in_the_allowlisted_probe() -> None:
    offenders = [
        module.where(call)
        for module in modules()
        if module.rel not in RAW_SQL_ALLOWED
        for name, call in sql_constructor_calls(module)
        if name == "text"
    ]
    assert offenders == [], "raw text() SQL: use ORM-typed statements in a repository"


def test_statements_execute_only_in_repositories() -> None:
    offenders = [
        f"{module.where(call)} {receiver}.{method}("
        for module in modules()
        if not module.is_repository and not module.rel.startswith(DRIVER_SQL_ALLOWED_DIRS)
        for method, receiver, call in method_calls(module, EXECUTE_METHODS)
        if receiver == "<call>" or any(hint in receiver.lower() for hint in DB_RECEIVER_HINTS)
    ]
    offenders += [
        f"{module.where(call)} {receiver}.{method}( (unscoped primary-key load)"
        for module in modules()
        for method, receiver, call in method_calls(module, SESSION_GETTERS)
        if receiver.endswith("session")
    ]
    assert offenders == [], "statements run outside repository.py files"


def test_nobody_commits_or_rolls_back_by_hand() -> None:
    offenders = [
        f"{module.where(call)} .{method}()"
        for module in modules()
        if module.rel not in COMMIT_ALLOWED
        for method, _, call in method_calls(module, frozenset({"commit", "rollback"}))
    ]
    assert offenders == [], "services and repositories never commit (rule 16)"


def test_only_known_owners_open_a_transaction() -> None:
    owners = {
        module.rel
        for module in modules()
        for _, receiver, _call in method_calls(module, frozenset({"begin"}))
        if receiver.endswith("session") or receiver in {"<call>", "engine", "connection", "conn"}
    }
    assert "app/auth/jobs.py" in owners, "the detector lost the jobs' transactions"
    assert owners <= TRANSACTION_OWNERS, (
        f"new transaction owners {sorted(owners - TRANSACTION_OWNERS)}: "
        "services run inside the caller's transaction"
    )


# --- Tenant repositories expose only scoped methods -----------------------------------------


def _repository_classes() -> list[type[Repository[Any]]]:
    found: list[type[Repository[Any]]] = []
    for module in modules():
        if not module.is_repository:
            continue
        name = ".".join(module.path.relative_to(ROOT).with_suffix("").parts)
        imported = importlib.import_module(name)
        for _, cls in inspect.getmembers(imported, inspect.isclass):
            if cls.__module__ == name and issubclass(cls, Repository):
                found.append(cls)
    return found


def _is_scoping(hint: Any) -> bool:
    if hint is Principal or hint is AccessibleWorkspaceID:
        return True
    return any(_is_scoping(arg) for arg in typing.get_args(hint))


def _tenant_repository_methods() -> list[tuple[str, str, bool]]:
    """(class, public method, takes a scope) for every repository of a TenantMixin model."""
    rows: list[tuple[str, str, bool]] = []
    for cls in _repository_classes():
        model = getattr(cls, "model", None)
        if not (isinstance(model, type) and issubclass(model, TenantMixin)):
            continue
        for name, member in vars(cls).items():
            if name.startswith("_") or not inspect.isfunction(member):
                continue
            hints = typing.get_type_hints(member)
            hints.pop("return", None)
            rows.append((cls.__name__, name, any(_is_scoping(h) for h in hints.values())))
    return rows


@pytest.mark.checklist(
    "C2",
    red="add a public method to a tenant repository that takes neither a Principal nor an "
    "AccessibleWorkspaceID",
)
def test_tenant_repositories_have_no_unscoped_public_methods() -> None:
    rows = _tenant_repository_methods()
    assert {cls for cls, _, _ in rows} >= {"WorkspaceRepository", "ApiKeyRepository"}
    unscoped = {(cls, name) for cls, name, scoped in rows if not scoped}
    offenders = sorted(unscoped - set(UNSCOPED_METHODS_ALLOWED))
    assert offenders == [], (
        "tenant repository methods must take a Principal or an AccessibleWorkspaceID (rule 10)"
    )
    stale = sorted(set(UNSCOPED_METHODS_ALLOWED) - unscoped)
    assert stale == [], "allowlisted methods that no longer exist or are now scoped: remove them"


@pytest.mark.checklist("C2", red="add a tenant model without a scoped Repository subclass")
def test_every_tenant_model_has_a_repository() -> None:
    tenant_models = {
        mapper.class_ for mapper in Base.registry.mappers if issubclass(mapper.class_, TenantMixin)
    }
    with_repo = {getattr(cls, "model", None) for cls in _repository_classes()}
    assert tenant_models - with_repo == set()


# --- Routers are thin -----------------------------------------------------------------------


def _api_routes() -> list[APIRoute]:
    routes = [context.original_route for context in iter_route_contexts(api_router.routes)]
    assert routes, "no routes found"
    assert all(isinstance(route, APIRoute) for route in routes), "non-FastAPI route in the API"
    return [route for route in routes if isinstance(route, APIRoute)]


@pytest.mark.parametrize("route", _api_routes(), ids=lambda r: f"{sorted(r.methods)}{r.path}")
def test_route_declares_its_response(route: APIRoute) -> None:
    endpoint = route.endpoint
    assert endpoint.__module__.endswith(".router"), "routes live in router.py"
    signature = inspect.signature(endpoint)
    assert signature.return_annotation is not inspect.Signature.empty, "no return annotation"
    if not route.include_in_schema:
        return  # operational probes (/healthz, /readyz): not documented, annotated only
    no_content = route.status_code == 204
    binary = any((route.path, method) in BINARY_ROUTES for method in route.methods or ())
    assert route.response_model is not None or no_content or binary, "no response_model"
    assert route.summary, "no summary="
    assert (endpoint.__doc__ or "").strip(), "no docstring (the OpenAPI description)"
    assert route.responses, "no documented error responses="


def test_routers_import_no_repository_or_sqlalchemy() -> None:
    offenders: list[str] = []
    for module in modules():
        if not module.is_router:
            continue
        for name, node in imported_modules(module):
            last = name.rsplit(".", 1)[-1]
            repository = last == "repository" or ".repository." in f"{name}."
            if repository and module.rel not in ROUTER_REPOSITORY_IMPORTS_ALLOWED:
                offenders.append(f"{module.where(node)} imports {name}")
            if name.split(".")[0] == "sqlalchemy":
                offenders.append(f"{module.where(node)} imports {name}")
    assert offenders == [], "routers call services only (rule 5)"


# --- Models and module size -----------------------------------------------------------------


def test_relationships_are_lazy_raise() -> None:
    offenders = [
        f"{mapper.class_.__name__}.{rel.key} lazy={rel.lazy!r}"
        for mapper in Base.registry.mappers
        for rel in mapper.relationships
        if isinstance(rel, RelationshipProperty) and rel.lazy != "raise"
    ]
    assert offenders == [], 'relationships use lazy="raise" and load explicitly (rule 17)'


def test_modules_stay_within_the_size_budget() -> None:
    offenders = []
    for module in modules():
        budget = SIZE_BUDGET.get(module.path.name, DEFAULT_SIZE_BUDGET)
        lines = len(module.path.read_text(encoding="utf-8").splitlines())
        if lines > budget:
            offenders.append(f"{module.rel}: {lines} lines > {budget}")
    assert offenders == [], "split by subdomain (rule 3)"


# --- The tests' own layering ----------------------------------------------------------------


def imported_test_modules(module: Module) -> Iterator[tuple[str, ast.AST]]:
    """Modules named ``test_*`` that ``module`` imports (absolute or relative, by file)."""
    for name, node in imported_modules(module):
        if isinstance(node, ast.ImportFrom) and node.level:
            package = module.path.relative_to(ROOT).parent.parts
            base = package[: len(package) - node.level + 1]
            name = ".".join((*base, *name.split(".")))
        last = name.rsplit(".", 1)[-1]
        if (
            last.startswith("test_")
            and (ROOT / Path(*name.split("."))).with_suffix(".py").is_file()
        ):
            yield name, node


def test_no_module_imports_from_a_test_module() -> None:
    """Helpers live in helper modules (``support.py``, ``factories/``, ``<topic>_*.py``): a module
    importing a ``test_*`` module collects that module's tests and fixtures a second time, where
    nobody looks for them, and couples two test files through their insides."""
    offenders = [
        f"{module.where(node)} imports {name}"
        for module in modules(*TEST_TREES)
        for name, node in imported_test_modules(module)
    ]
    assert offenders == [], "move the helper out of the test module"


def test_test_modules_stay_within_the_size_budget() -> None:
    offenders = []
    for module in modules(*TEST_TREES):
        lines = len(module.path.read_text(encoding="utf-8").splitlines())
        if lines > TEST_SIZE_BUDGET:
            offenders.append(f"{module.rel}: {lines} lines > {TEST_SIZE_BUDGET}")
    assert offenders == [], "split by what they test: a module per endpoint or concern"
