"""The role matrix covers every router of the route inventory, not a fixed list.

A router the recipe adds (CONTRIBUTING.md step 6: included in app/api.py) joins the inventory by
itself; until docs/role-matrix.md and ``ROWS`` have its rows, the completeness check of
tests/workspaces/test_role_matrix.py names its routes. Proven here on the real inventory plus a
throwaway router, included exactly as app/api.py includes private routers.
"""

from __future__ import annotations

import uuid

import pytest
from fastapi import APIRouter

from app.api import PRIVATE_DEPENDENCIES, include_api
from app.identity.dependencies import get_principal
from tests.route_table import private_routes, route_table
from tests.workspaces.role_matrix_rows import row_coverage


def inventory_with(extra: APIRouter) -> APIRouter:
    combined = APIRouter()
    include_api(combined)
    combined.include_router(extra, dependencies=PRIVATE_DEPENDENCIES)
    return combined


@pytest.mark.checklist(
    "C2", red="row_coverage reading a fixed route list instead of the inventory it is given"
)
def test_a_new_router_without_rows_fails_the_completeness_check() -> None:
    notes = APIRouter(prefix="/v1/workspaces/{workspace_id}/notes")

    @notes.get("/{note_id}")
    async def get_note(workspace_id: uuid.UUID, note_id: uuid.UUID) -> None:
        """A throwaway route: never served."""

    inventory = route_table(inventory_with(notes).routes)
    guarded = [route for route in inventory if route.depends_on(get_principal)]
    without_row, no_route = row_coverage(guarded)
    assert without_row == {("GET", "/v1/workspaces/{workspace_id}/notes/{note_id}")}
    assert not no_route


def test_todays_inventory_is_covered() -> None:
    assert row_coverage(private_routes()) == (set(), set())
