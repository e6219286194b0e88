"""docs/role-matrix.md read as data: ``{row label: {column: expected status}}`` and its columns.

The document is the specification and the test input (tests/workspaces/test_role_matrix.py).
"""

from __future__ import annotations

import re
from pathlib import Path

from app.auth.mfa.router import router as mfa_router
from app.auth.passkeys.router import auth_router as passkey_auth_router
from app.auth.router import router as auth_router
from app.identity.scopes import Scope
from tests.route_table import route_table
from tests.support import ROOT

MATRIX_DOC = ROOT / "docs" / "role-matrix.md"
# Every private route of the route inventory (app/api.py) needs a row, whichever router it is on,
# so a new router joins by itself. Except the caller's own credentials (logout, logout-all,
# password change, their second factors): no workspace role is involved; tests/auth and the route
# inventory's credential matrix cover them.
NOT_ROLE_SCOPED = frozenset(
    route.key
    for router in (auth_router, mfa_router, passkey_auth_router)
    for route in route_table(router.routes)
)
PEOPLE = ("owner", "admin", "member", "viewer", "non-member", "staff", "anonymous")
KEY_COLUMN = "key "
KEYS = tuple(KEY_COLUMN + scope.value for scope in Scope)
COLUMNS = PEOPLE + KEYS
STAGE_ROLES = ("owner", "admin", "member", "viewer")


# --- Reading the document -------------------------------------------------------------------


def _cells(line: str) -> list[str]:
    return [cell.strip().replace("`", "") for cell in line.strip().strip("|").split("|")]


def parse_matrix(path: Path) -> dict[str, dict[str, int]]:
    """``{row label: {column: expected status}}`` from every ``| Route | ...`` table in ``path``."""
    matrix: dict[str, dict[str, int]] = {}
    header: list[str] | None = None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.lstrip().startswith("|"):
            header = None
            continue
        cells = _cells(line)
        if header is None:
            header = cells if cells[0] == "Route" else []
            continue
        if not header or set("".join(cells)) <= set("-: "):
            continue
        assert len(cells) == len(header), f"{path.name}:{number}: {len(cells)} cells"
        row = matrix.setdefault(cells[0], {})
        for column, value in zip(header[1:], cells[1:], strict=True):
            assert column not in row, f"{path.name}:{number}: {cells[0]} / {column} twice"
            assert re.fullmatch(r"[1-5]\d\d", value), f"{path.name}:{number}: {value!r}"
            row[column] = int(value)
    return matrix


MATRIX = parse_matrix(MATRIX_DOC)
