"""C2, roles: the running service answers exactly as docs/role-matrix.md says, cell by cell.

The document is the specification and this file reads it: every table whose first header is
``Route`` is parsed, and each (row, principal) cell becomes one test. Each row label names a
route and, after `` · ``, which object it targets; ``ROWS`` (tests/workspaces/role_matrix_rows.py)
says how to set that up, on a stage of role_matrix_stage.py, through the cells of
role_matrix_cells.py. The document and ``ROWS`` must name the same rows, the tables must have a
column for every principal (every role, every API-key scope), and every private route of the
route inventory (every router app/api.py includes, but the caller's own credentials) must have a
row: none of the three can drift from the others (tests/workspaces/test_role_matrix_coverage.py
proves a new router fails). Chat cells send with ``Accept: application/json`` and a one-word
prompt to the model stub, so a cell stays a single short request.

The scenario classes below the matrix check what a single cell cannot: that role changes take
effect on the very next request, the last-owner rule, and ownership transfer.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from app.identity.permissions import Role
from tests.factories.passkeys import register_passkey
from tests.factories.users import create_actor, login, signup, unique_email
from tests.route_table import private_routes, without_request_id
from tests.support import Actor, Database, Server
from tests.workspaces.role_matrix_cells import MATRIX_UPLOAD, Cell, caller_for
from tests.workspaces.role_matrix_doc import COLUMNS, MATRIX, STAGE_ROLES
from tests.workspaces.role_matrix_rows import ROWS, row_coverage
from tests.workspaces.role_matrix_stage import Cast, Http, Stage, build_stage, current_session_id

pytestmark = pytest.mark.checklist(
    "C2",
    red="grant a role or key scope a permission docs/role-matrix.md denies "
    "(app/identity/permissions.py), keep a demoted or removed member's access for the next "
    "request, or answer 403 for a foreign workspace",
)


@pytest.fixture(scope="module")
def http(server: Server) -> Iterator[Http]:
    client = Http(server)
    yield client
    client.client.close()


@pytest.fixture(scope="module")
def cast(server: Server, db: Database, http: Http, staff_account: Actor) -> Cast:
    people = {label: create_actor(server, db, label) for label in (*STAGE_ROLES, "spare", "out")}
    bystander_email, _ = signup(server, db, email=unique_email("bystander"))
    bystander_id = db.scalar("SELECT id FROM user_account WHERE email = %s", bystander_email)
    spare_again = login(server, people["spare"].email, people["spare"].password)
    _, foreign_passkey = register_passkey(create_actor(server, db, "passkey-owner"))
    return Cast(
        owner=people["owner"],
        admin=people["admin"],
        member=people["member"],
        viewer=people["viewer"],
        spare=people["spare"],
        outsider=people["out"],
        staff=staff_account,
        bystander_id=str(bystander_id),
        spare_other_session_id=current_session_id(http, spare_again),
        foreign_passkey_id=str(foreign_passkey["id"]),
    )


@pytest.fixture(scope="module")
def shared_stage(http: Http, db: Database, cast: Cast) -> Stage:
    """For rows whose cells cannot change what the next cell sees."""
    return build_stage(http, db, cast)


# --- The document, the rows and the routers agree -------------------------------------------


class TestTheDocumentIsComplete:
    def test_rows_match_the_document(self) -> None:
        assert set(MATRIX) == set(ROWS), (
            f"only in docs/role-matrix.md: {sorted(set(MATRIX) - set(ROWS))}; "
            f"only in ROWS: {sorted(set(ROWS) - set(MATRIX))}"
        )

    def test_every_row_has_every_principal(self) -> None:
        assert {role.value for role in Role} <= set(COLUMNS)
        for label, cells in MATRIX.items():
            assert set(cells) == set(COLUMNS), f"{label}: columns {sorted(cells)}"

    def test_every_route_of_the_routers_has_a_row(self) -> None:
        without_row, no_route = row_coverage(private_routes())
        assert not without_row, f"routes without a row: {sorted(without_row)}"
        assert not no_route, f"rows for no route: {sorted(no_route)}"


# --- The matrix -----------------------------------------------------------------------------


def _matrix_cells() -> list[Any]:
    return [
        pytest.param(label, column, expected, id=f"{column} | {label}")
        for label, cells in MATRIX.items()
        for column, expected in cells.items()
        if label in ROWS
    ]


@pytest.mark.parametrize(("label", "column", "expected"), _matrix_cells())
def test_matrix_cell(
    http: Http,
    db: Database,
    server: Server,
    cast: Cast,
    shared_stage: Stage,
    label: str,
    column: str,
    expected: int,
) -> None:
    row = ROWS[label]
    stage = build_stage(http, db, cast) if row.fresh_stage else shared_stage
    cell = Cell(http, db, server, stage, caller_for(column, stage, server))
    path = row.path.format(**row.ids(cell))
    headers = {**cell.caller.headers, **dict(row.headers)}
    upload = MATRIX_UPLOAD if row.upload else None
    response = http.request(headers, row.method, path, row.body(cell), files=upload)
    assert response.status_code == expected, f"{label} as {column}: {response.text}"


# --- Scenarios ------------------------------------------------------------------------------


@pytest.fixture
def stage(http: Http, db: Database, cast: Cast) -> Stage:
    return build_stage(http, db, cast)


def role_of(db: Database, stage: Stage, actor: Actor) -> str | None:
    role = db.scalar(
        "SELECT role::text FROM workspace_membership WHERE workspace_id = %s AND user_id = %s",
        stage.workspace_id,
        actor.user_id,
    )
    return None if role is None else str(role)


def memberships(db: Database, stage: Stage) -> list[tuple[Any, ...]]:
    return db.rows(
        "SELECT user_id, role::text FROM workspace_membership WHERE workspace_id = %s "
        "ORDER BY user_id",
        stage.workspace_id,
    )


class TestChangesTakeEffectOnTheNextRequest:
    def test_demoted_admin_cannot_rename_on_the_next_request(
        self, http: Http, cast: Cast, stage: Stage
    ) -> None:
        ws = f"/v1/workspaces/{stage.workspace_id}"
        http.ok(cast.admin, "PATCH", ws, {"name": "Renamed by admin"})
        http.ok(cast.owner, "PATCH", f"{ws}/members/{cast.admin.user_id}", {"role": "viewer"})
        response = http.request(cast.admin.headers(), "PATCH", ws, {"name": "Again"})
        assert response.status_code == 403, response.text

    def test_removed_member_loses_the_workspace_on_the_next_request(
        self, http: Http, cast: Cast, stage: Stage
    ) -> None:
        ws = f"/v1/workspaces/{stage.workspace_id}"
        http.ok(cast.member, "GET", ws)
        http.ok(cast.owner, "DELETE", f"{ws}/members/{cast.member.user_id}", status=204)
        assert http.request(cast.member.headers(), "GET", ws).status_code == 404
        listed = http.ok(cast.member, "GET", "/v1/workspaces?limit=100")
        assert stage.workspace_id not in {w["id"] for w in listed["items"]}

    def test_key_of_a_removed_creator_stops_on_the_next_request(
        self, http: Http, cast: Cast, stage: Stage
    ) -> None:
        ws = f"/v1/workspaces/{stage.workspace_id}"
        created = http.ok(
            cast.admin,
            "POST",
            f"{ws}/api-keys",
            {"name": "admin's", "scopes": ["workspace:read"]},
            status=201,
        )
        bearer = {"Authorization": f"Bearer {created['key']}"}
        assert http.request(bearer, "GET", ws).status_code == 200
        http.ok(cast.owner, "DELETE", f"{ws}/members/{cast.admin.user_id}", status=204)
        assert http.request(bearer, "GET", ws).status_code == 401


class TestLastOwner:
    def test_the_last_owner_cannot_leave(
        self, http: Http, db: Database, cast: Cast, stage: Stage
    ) -> None:
        before = memberships(db, stage)
        path = f"/v1/workspaces/{stage.workspace_id}/members/{cast.owner.user_id}"
        response = http.request(cast.owner.headers(), "DELETE", path)
        assert response.status_code == 409, response.text
        assert without_request_id(response)["code"] == "last_owner"
        assert memberships(db, stage) == before

    def test_the_last_owner_cannot_be_demoted(
        self, http: Http, db: Database, cast: Cast, stage: Stage
    ) -> None:
        before = memberships(db, stage)
        path = f"/v1/workspaces/{stage.workspace_id}/members/{cast.owner.user_id}"
        for role in ("admin", "member", "viewer"):
            response = http.request(cast.owner.headers(), "PATCH", path, {"role": role})
            assert response.status_code == 409, response.text
            assert without_request_id(response)["code"] == "last_owner"
        assert memberships(db, stage) == before


class TestAdminsCannotTouchOwners:
    def test_admin_cannot_demote_or_remove_the_owner(
        self, http: Http, db: Database, cast: Cast, stage: Stage
    ) -> None:
        before = memberships(db, stage)
        path = f"/v1/workspaces/{stage.workspace_id}/members/{cast.owner.user_id}"
        demote = http.request(cast.admin.headers(), "PATCH", path, {"role": "viewer"})
        remove = http.request(cast.admin.headers(), "DELETE", path)
        assert (demote.status_code, remove.status_code) == (403, 403)
        assert memberships(db, stage) == before

    def test_admin_cannot_grant_owner(
        self, http: Http, db: Database, cast: Cast, stage: Stage
    ) -> None:
        before = memberships(db, stage)
        ws = f"/v1/workspaces/{stage.workspace_id}"
        for target in (cast.spare, cast.admin):  # someone else, or themselves
            response = http.request(
                cast.admin.headers(), "PATCH", f"{ws}/members/{target.user_id}", {"role": "owner"}
            )
            assert response.status_code == 403, response.text
        invited = http.request(
            cast.admin.headers(),
            "POST",
            f"{ws}/invitations",
            {"email": unique_email("would-be-owner"), "role": "owner"},
        )
        assert invited.status_code == 403, invited.text
        assert memberships(db, stage) == before


class TestOwnershipTransfer:
    def test_owner_promotes_a_member_then_steps_down(
        self, http: Http, db: Database, cast: Cast, stage: Stage
    ) -> None:
        ws = f"/v1/workspaces/{stage.workspace_id}"
        http.ok(cast.owner, "PATCH", f"{ws}/members/{cast.spare.user_id}", {"role": "owner"})
        http.ok(cast.owner, "PATCH", f"{ws}/members/{cast.owner.user_id}", {"role": "admin"})
        assert (role_of(db, stage, cast.spare), role_of(db, stage, cast.owner)) == (
            "owner",
            "admin",
        )
        # The former owner is an admin now, on the very next request...
        assert http.request(cast.owner.headers(), "DELETE", ws).status_code == 403
        demote = http.request(
            cast.owner.headers(), "PATCH", f"{ws}/members/{cast.spare.user_id}", {"role": "admin"}
        )
        assert demote.status_code == 403, demote.text
        # ...and the new owner is the last one, bound by the same rule.
        leave = http.request(cast.spare.headers(), "DELETE", f"{ws}/members/{cast.spare.user_id}")
        assert leave.status_code == 409, leave.text
        assert role_of(db, stage, cast.spare) == "owner"


class TestForbiddenVersusMissing:
    def test_visible_but_not_allowed_is_403_and_foreign_is_404(
        self, http: Http, db: Database, cast: Cast, stage: Stage
    ) -> None:
        """403 only says "you can see it, your role cannot do this"; a foreign workspace is
        indistinguishable from one that does not exist."""
        before = db.snapshot("workspace")
        ws = f"/v1/workspaces/{stage.workspace_id}"
        viewer = http.request(cast.viewer.headers(), "PATCH", ws, {"name": "Viewer's"})
        outsider = http.request(cast.outsider.headers(), "PATCH", ws, {"name": "Outsider's"})
        nowhere = http.request(
            cast.outsider.headers(), "PATCH", f"/v1/workspaces/{uuid.uuid4()}", {"name": "x"}
        )
        assert viewer.status_code == 403
        assert without_request_id(viewer)["code"] == "forbidden"
        assert outsider.status_code == 404
        assert without_request_id(outsider) == without_request_id(nowhere)
        assert db.snapshot("workspace") == before


class TestKeysSeeOnlyTheirWorkspace:
    def test_a_key_lists_its_own_workspace_only_if_it_may_read_it(
        self, http: Http, cast: Cast, stage: Stage
    ) -> None:
        """The owner belongs to many workspaces; a key of one of them lists that one alone."""
        for scope, expected in (("workspace:read", [stage.workspace_id]), ("bots:read", [])):
            bearer = {"Authorization": f"Bearer {stage.key(scope)}"}
            listed = http.request(bearer, "GET", "/v1/workspaces?limit=100")
            assert listed.status_code == 200, listed.text
            assert [w["id"] for w in listed.json()["items"]] == expected
        owner_sees = http.ok(cast.owner, "GET", "/v1/workspaces?limit=100")
        assert len(owner_sees["items"]) > 1
