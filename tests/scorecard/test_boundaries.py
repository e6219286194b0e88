"""The scorecard is black-box: it imports no domain package, so a fork is judged by what it
serves, not by the code it happens to share (docs/scorecard.md)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from app.scorecard.registry import CHECK_MODULES
from tests.support import ROOT

PACKAGE = ROOT / "app" / "scorecard"
# pyotp: RFC 6238 codes for an account that signs in with a second factor (--account …:TOTPVAR).
THIRD_PARTY = frozenset({"httpx", "httpcore", "dns", "pyotp"})
# Explicitly allowed project modules: the domain rules check-domain and the secret scanner share.
PROJECT = frozenset({"app.email.domain_check", "app.core.secret_scan"})


def imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append(node.module)
    return found


def allowed(module: str) -> bool:
    top = module.split(".")[0]
    return (
        top in sys.stdlib_module_names
        or top in THIRD_PARTY
        or module == "app.scorecard"
        or module.startswith("app.scorecard.")
        or module in PROJECT
    )


@pytest.mark.checklist(
    "C11", red="a check module imports a domain package (app.auth, app.files, ...)"
)
def test_scorecard_imports_only_the_public_contract() -> None:
    sources = sorted(PACKAGE.rglob("*.py"))
    assert sources
    offenders = {
        str(path.relative_to(ROOT)): bad
        for path in sources
        if (bad := [m for m in imports(path) if not allowed(m)])
    }
    assert offenders == {}


@pytest.mark.checklist("C11", red="a check module is left out of CHECK_MODULES (never runs)")
def test_every_module_that_registers_checks_is_listed() -> None:
    registering = {
        "app.scorecard." + path.stem
        for path in PACKAGE.glob("*.py")
        if "@check(" in path.read_text(encoding="utf-8") and path.stem != "registry"
    }
    assert registering <= set(CHECK_MODULES)
    assert all(module.startswith("app.scorecard.") for module in CHECK_MODULES)


def test_the_rule_catches_a_domain_import() -> None:
    assert not allowed("app.auth.service")
    assert not allowed("app.core.config")
    assert allowed("app.email.domain_check")
