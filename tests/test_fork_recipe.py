"""The fork recipe (CONTRIBUTING.md "Add a domain") is what the guards enforce.

In a fresh-clone-like copy, a throwaway ``memos`` domain is added step by step, and after each
step the guards run there (a real pytest in the copy): the route inventory refuses the router
until it is included as CONTRIBUTING step 6 says (``PRIVATE_ROUTERS``), the role matrix refuses
it until step 7's row exists in docs/role-matrix.md, and refuses that row until ``ROWS`` has its
setup; with every step done they pass. (The BOLA and RLS guards need a running server and a
migrated schema: tests/attack/test_bola.py and tests/test_rls.py, not re-run here.)
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fresh_clone import clone_like_copy
from tests.workspaces.role_matrix_doc import COLUMNS

ROUTE = "/v1/workspaces/{workspace_id}/memos/{memo_id}"
INVENTORY = "tests/test_route_inventory.py::test_every_route_is_public_listed_or_guarded"
COMPLETE = "tests/workspaces/test_role_matrix.py::TestTheDocumentIsComplete"

# Step 6 half done: a route that forgets the principal, on a router included without one.
UNGUARDED = f'''"""Memos: a throwaway domain (tests/test_fork_recipe.py)."""

import uuid

from fastapi import APIRouter

from app.core.errors import NotFound

router = APIRouter(tags=["memos"])


@router.get("{ROUTE}", summary="Get a memo")
async def get_memo(workspace_id: uuid.UUID, memo_id: uuid.UUID) -> None:
    """One memo."""
    raise NotFound()
'''


def guards(copy: Path) -> str:
    """Run the two guards in the copy; the output names each failing test and its message."""
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", INVENTORY, COMPLETE],
        cwd=copy,
        env={**os.environ, "PYTHONPATH": str(copy)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return result.stdout if result.returncode else "passed"


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{path.name} changed: {old!r} is gone; update this test with the recipe"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return clone_like_copy(tmp_path_factory.mktemp("fork") / "launchproof")


@pytest.mark.timeout(600)  # four pytest runs in the copy
def test_the_guards_fail_until_each_step_of_the_recipe_is_done(copy: Path) -> None:
    api = copy / "app" / "api.py"
    (copy / "app" / "memos").mkdir()
    (copy / "app" / "memos" / "__init__.py").write_text("")
    router = copy / "app" / "memos" / "router.py"
    router.write_text(UNGUARDED, encoding="utf-8")
    edit(
        api,
        "\n# Public routers:",
        "\nfrom app.memos.router import router as memos_router\n\n# Public routers:",
    )
    edit(api, "    console_router,\n)", "    console_router,\n    memos_router,\n)")
    output = guards(copy)
    assert "test_every_route_is_public_listed_or_guarded" in output, output
    assert ROUTE in output, output

    # Step 6 as written: a principal alias, and the router among PRIVATE_ROUTERS.
    edit(
        router,
        "from app.core.errors import NotFound\n",
        "from app.identity.dependencies import AnyPrincipal\n"
        "from app.core.errors import NotFound\n",
    )
    edit(router, "memo_id: uuid.UUID)", "memo_id: uuid.UUID, principal: AnyPrincipal)")
    edit(api, "    console_router,\n    memos_router,\n)", "    console_router,\n)")
    edit(
        api,
        "    webhook_endpoints_router,  # webhooks\n)",
        "    webhook_endpoints_router,  # webhooks\n    memos_router,\n)",
    )
    output = guards(copy)
    assert "test_every_route_is_public_listed_or_guarded" not in output, output
    assert "routes without a row" in output, output
    assert ROUTE in output, output

    # Step 7, the document: a row with every principal column.
    header = "| Route | " + " | ".join(COLUMNS) + " |"
    row = f"| GET {ROUTE} | " + " | ".join("404" for _ in COLUMNS) + " |"
    with (copy / "docs" / "role-matrix.md").open("a", encoding="utf-8") as doc:
        doc.write(f"\n## Memos\n\n{header}\n|{'---|' * (len(COLUMNS) + 1)}\n{row}\n")
    output = guards(copy)
    assert "only in docs/role-matrix.md" in output, output
    assert f"GET {ROUTE}" in output, output

    # Step 7, the test: its setup in ROWS. Every guard passes.
    matrix = copy / "tests" / "workspaces" / "role_matrix_rows.py"
    last = '        Row("DELETE", "/v1/files/{file_id}", A_FILE, ids=Cell.new_file),\n'
    edit(matrix, last, last + f'        Row("GET", "{ROUTE}"),\n')
    assert guards(copy) == "passed"
