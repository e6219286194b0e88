"""The ``checklist`` marker, enforced: which launch-checklist rows a test proves, and how it fails.

``@pytest.mark.checklist("C2", "C3", red="drop the workspace filter in ...")`` (or a module's
``pytestmark``) says the test demonstrates rows C2 and C3 and goes red when the product changes as
``red`` says. A mark naming no row, an unknown row, or no one-line ``red`` is a usage error at
collection: a claim nobody can check is worse than no claim. ``--checklist-json PATH`` writes
every marked test with its rows and ``red`` for ``tests/checklist_doc.py`` (docs/checklist.md).
Loaded by ``tests/conftest.py``; ``-p tests.checklist_plugin`` loads it for a test file elsewhere.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.checklist_rows import ROW_IDS

MARK = "checklist"
INVALID = pytest.StashKey[bool]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--checklist-json",
        metavar="PATH",
        default=None,
        help="write each checklist-marked test (nodeid, rows, red) to PATH as JSON",
    )


def mark_problem(mark: pytest.Mark) -> str | None:
    """Why this use of the marker is refused, or None when it is well formed."""
    if not mark.args:
        return "names no row (expected one or more of C1..C14)"
    unknown = [row for row in mark.args if row not in ROW_IDS]
    if unknown:
        return f"unknown row(s) {', '.join(map(repr, unknown))} (expected C1..C14)"
    extra = sorted(set(mark.kwargs) - {"red"})
    if extra:
        return f"unexpected keyword(s) {', '.join(extra)} (only red=...)"
    red = mark.kwargs.get("red")
    if not isinstance(red, str) or not red.strip():
        return 'has no red="..." (the change to the product that turns this test red)'
    if "\n" in red:
        return "red must be one line"
    return None


def owned_marks(item: pytest.Item) -> list[tuple[str, pytest.Mark]]:
    """Each checklist mark on ``item`` with the node that declares it (module, class, function).

    A parametrized function's instances share one owner (its id without the parameters), so the
    generated document names the test once.
    """
    found: list[tuple[str, pytest.Mark]] = []
    for node in item.listchain():
        for mark in node.own_markers:
            if mark.name == MARK:
                found.append((node.nodeid.split("[", 1)[0], mark))
    return found


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    problems: dict[str, str] = {}
    for item in items:
        for owner, mark in owned_marks(item):
            problem = mark_problem(mark)
            if problem:
                problems.setdefault(owner, problem)
    if problems:
        config.stash[INVALID] = True  # pytest_collection_finish still runs: write nothing
        lines = [f"{owner}: checklist mark {why}" for owner, why in sorted(problems.items())]
        raise pytest.UsageError("invalid checklist marks:\n" + "\n".join(lines))


def pytest_collection_finish(session: pytest.Session) -> None:
    path = session.config.getoption("checklist_json")
    if not path or session.config.stash.get(INVALID, False):
        return
    marked: list[dict[str, Any]] = []
    for item in session.items:
        marks = [
            {"owner": owner, "rows": list(mark.args), "red": mark.kwargs["red"]}
            for owner, mark in owned_marks(item)
        ]
        if marks:
            marked.append({"nodeid": item.nodeid, "marks": marks})
    payload = {"collected": len(session.items), "marked": marked}
    Path(path).write_text(json.dumps(payload, indent=1, sort_keys=True), encoding="utf-8")
