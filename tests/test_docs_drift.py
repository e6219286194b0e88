"""Docs that drift from the code are a defect: the drifts that were found once cannot come back.

Each check reads the code (settings model, public route list, source files) and the doc that
describes it, with no server or database: a new setting without a row in docs/configuration.md,
a public route missing from docs/security-model.md, a file or function cited in
docs/architecture.md that was renamed away, or a tracker reference (the word issue and a number)
in a comment or a doc, which means nothing to someone who forks the repository, all fail here.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest

from app.api import PUBLIC_ROUTES
from app.core.config import Settings

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

# A settings-table row: its first cell names one or more variables in backticks.
ROW = re.compile(r"^\|([^|]*)\|", re.MULTILINE)
VARIABLE = re.compile(r"`([A-Z][A-Z0-9_]*)`")
# A cited source file, optionally with a name in it: `app/core/db.py::get_db_session`.
CITED = re.compile(r"`((?:app|tests|load|migrations)/[\w/.-]+\.py)(?:::([\w.]+))?`")
TRACKER = re.compile(r"\bissues? \d+", re.IGNORECASE)

# Where tracker references are looked for: code, tests, docs and the files a newcomer reads first.
TRACKER_SCOPE = ("app", "tests", "docs", "README.md", "CONTRIBUTING.md", "Makefile")
TEXT_SUFFIXES = frozenset(
    {".py", ".md", ".toml", ".txt", ".json", ".js", ".html", ".css", ".yml", ".yaml"}
)
# Folders other work was changing when this check was added; their references are listed for the
# lead to replace. This list only shrinks: empty it, never add to it.
TRACKER_PENDING: tuple[str, ...] = ()


def documented_variables() -> set[str]:
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    return {name for cell in ROW.findall(text) for name in VARIABLE.findall(cell)}


def test_every_setting_has_a_row_in_configuration_md() -> None:
    documented = documented_variables()
    missing = sorted(
        name.upper() for name in Settings.model_fields if name.upper() not in documented
    )
    assert not missing, f"settings without a row in docs/configuration.md: {missing}"


def test_security_model_lists_every_public_route() -> None:
    text = (DOCS / "security-model.md").read_text(encoding="utf-8")
    missing = sorted(f"{m} {p}" for m, p in PUBLIC_ROUTES if f"`{m} {p}`" not in text)
    assert not missing, f"public routes not listed in docs/security-model.md: {missing}"


@cache
def defined_names(path: Path) -> frozenset[str]:
    """Top-level names of a module, plus ``Class.member`` for the members of its classes."""
    names: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        if isinstance(node, ast.ClassDef):
            names.update(
                f"{node.name}.{member.name}"
                for member in node.body
                if isinstance(member, ast.FunctionDef | ast.AsyncFunctionDef)
            )
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        names.update(t.id for t in targets if isinstance(t, ast.Name))
    return frozenset(names)


# Every prose doc a reader follows to the code; the tour in architecture.md above all.
CITING_DOCS = sorted(
    [*DOCS.rglob("*.md"), ROOT / "README.md", ROOT / "CONTRIBUTING.md", ROOT / "infra/README.md"]
)


def test_the_tour_cites_source_files() -> None:
    tour = (DOCS / "architecture.md").read_text(encoding="utf-8").split("\n## ", 2)[1]
    assert tour.startswith("A five-minute tour"), "architecture.md must open with the tour"
    assert len(CITED.findall(tour)) >= 20, "the tour names the files a request passes through"


@pytest.mark.parametrize("doc", CITING_DOCS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_cited_files_and_names_exist(doc: Path) -> None:
    broken = []
    for file, name in CITED.findall(doc.read_text(encoding="utf-8")):
        path = ROOT / file
        if not path.is_file():
            broken.append(file)
        elif name and name not in defined_names(path):
            broken.append(f"{file}::{name}")
    assert not broken, f"{doc.name} cites what does not exist: {sorted(set(broken))}"


def tracker_files() -> list[Path]:
    files: list[Path] = []
    for entry in TRACKER_SCOPE:
        path = ROOT / entry
        if path.is_file():
            files.append(path)
        else:
            files.extend(p for p in path.rglob("*") if p.is_file() and p.suffix in TEXT_SUFFIXES)
    return files


def test_no_tracker_references() -> None:
    found = []
    for path in tracker_files():
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith(TRACKER_PENDING):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), 1):
            if TRACKER.search(line):
                found.append(f"{relative}:{number}: {line.strip()[:100]}")
    assert not found, (
        "say what a tracker reference means (the feature, the doc section) instead:\n"
        + "\n".join(found)
    )
