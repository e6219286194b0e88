"""The source model the layering tests (tests/test_architecture.py) read: every module parsed with
``ast`` (never regexes over text, so comments and strings do not count), and the queries over it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app"
# Query constructors that build SQL. Only repository.py files may call them.
SQL_CONSTRUCTORS = frozenset({"select", "insert", "update", "delete", "text", "union", "exists"})


@dataclass(frozen=True)
class Module:
    path: Path
    tree: ast.Module

    @property
    def rel(self) -> str:
        return self.path.relative_to(ROOT).as_posix()

    @property
    def is_repository(self) -> bool:
        return self.path.name == "repository.py"

    @property
    def is_router(self) -> bool:
        return self.path.name == "router.py"

    def where(self, node: ast.AST) -> str:
        return f"{self.rel}:{getattr(node, 'lineno', '?')}"


@cache
def modules(*folders: str) -> tuple[Module, ...]:
    """Every module under ``folders`` of the repository (default: ``app``), parsed."""
    paths = sorted(p for folder in folders or ("app",) for p in (ROOT / folder).rglob("*.py"))
    assert paths, "no sources found"
    return tuple(Module(p, ast.parse(p.read_text(encoding="utf-8"), str(p))) for p in paths)


def sqlalchemy_names(tree: ast.Module) -> tuple[dict[str, str], set[str]]:
    """Local names bound to sqlalchemy objects (alias -> original) and to sqlalchemy modules."""
    names: dict[str, str] = {}
    module_aliases: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "sqlalchemy":
            for alias in node.names:
                names[alias.asname or alias.name] = alias.name
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "sqlalchemy":
                    module_aliases.add(alias.asname or alias.name.split(".")[0])
    return names, module_aliases


def sql_constructor_calls(module: Module) -> Iterator[tuple[str, ast.Call]]:
    """``select(...)``, ``sa.text(...)``, ``sqlalchemy.update(...)`` and friends."""
    names, module_aliases = sqlalchemy_names(module.tree)
    for node in ast.walk(module.tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and names.get(func.id) in SQL_CONSTRUCTORS:
            yield names[func.id], node
        elif isinstance(func, ast.Attribute) and func.attr in SQL_CONSTRUCTORS:
            root = func.value
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in module_aliases:
                yield func.attr, node


def method_calls(module: Module, methods: frozenset[str]) -> Iterator[tuple[str, str, ast.Call]]:
    """``<receiver>.<method>(...)`` calls, with the receiver's last name (``self.session`` ->
    ``session``)."""
    for node in ast.walk(module.tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in methods
        ):
            receiver = node.func.value
            name = ""
            if isinstance(receiver, ast.Attribute):
                name = receiver.attr
            elif isinstance(receiver, ast.Name):
                name = receiver.id
            elif isinstance(receiver, ast.Call):
                name = "<call>"
            yield node.func.attr, name, node


def imported_modules(module: Module) -> Iterator[tuple[str, ast.AST]]:
    for node in ast.walk(module.tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            yield node.module, node
            for alias in node.names:  # ``from app.x import repository``
                yield f"{node.module}.{alias.name}", node
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node
