"""Rotating SECRET_KEY with the key ring, against real servers restarted on one database.

Credentials are stored as HMAC(SECRET_KEY, ...). Phase A issues sessions, API keys and a mailed
reset link under key A. Phase B+A (SECRET_KEY=B, SECRET_KEY_PREVIOUS=A) must accept all of them,
re-hash what is used under B, and still refuse anything tampered. Phase B (A dropped) accepts
what was re-hashed and refuses, with 401, what was never used while A was in the ring.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import secrets
from pathlib import Path

import pytest

from tests.auth.helpers import KeyClient, cookie_header, send
from tests.factories.users import create_actor, login, signup
from tests.factories.workspaces import create_api_key, create_workspace
from tests.problems import assert_problem
from tests.support import Actor, Anonymous, Database, Server, Stub, base_env, start_server
from tests.support import stop_server as stop

pytestmark = pytest.mark.checklist(
    "C1",
    "C4",
    red="drop SECRET_KEY_PREVIOUS from the credential lookups (KeyRingSettings.secret_key_ring), "
    "skip the re-hash on use, or keep accepting credentials only the retired key knew",
)

KEY_A = secrets.token_urlsafe(48)
KEY_B = secrets.token_urlsafe(48)


@dataclasses.dataclass
class Issued:
    """Everything phase A handed out, and the servers of each phase (started on demand)."""

    db: Database
    env: dict[str, str]
    logs: Path
    used: Actor  # presented during phase B+A
    idle: Actor  # never presented while A is in the ring
    workspace_id: str
    used_key: str
    idle_key: str
    reset_email: str
    reset_token: str

    def restart(self, server: Server | None, label: str, **keys: str) -> Server:
        if server is not None:
            stop(server)
        return start_server({**self.env, **keys}, self.logs / f"{label}.log")


@pytest.fixture(scope="module")
def issued(db: Database, stub: Stub, tmp_path_factory: pytest.TempPathFactory) -> Issued:
    logs = Path(tmp_path_factory.mktemp("key-ring"))
    env = base_env(db, OPENAI_BASE_URL=stub.base_url)
    env.pop("SECRET_KEY_PREVIOUS", None)
    server = start_server({**env, "SECRET_KEY": KEY_A}, logs / "a.log")
    try:
        used = create_actor(server, db, "ring-used")
        idle = login(server, used.email, used.password)  # a second session of the same user
        workspace_id = create_workspace(used, "Ring")
        scopes = ["workspace:read"]
        used_key = str(create_api_key(used, workspace_id, scopes)["key"])
        idle_key = str(create_api_key(used, workspace_id, scopes)["key"])
        reset_email, _ = signup(server, db)
        asked = Anonymous(server).post("/v1/auth/password-reset", json={"email": reset_email})
        assert asked.status_code == 202, asked.text
        reset_token = db.token_from_mail(reset_email, "password_reset")
    finally:
        stop(server)
    return Issued(
        db, env, logs, used, idle, workspace_id, used_key, idle_key, reset_email, reset_token
    )


def under(key: str, purpose: str, token: str) -> bytes:
    """HMAC-SHA256(key, purpose NUL token), computed independently of the app."""
    return hmac.new(
        key.encode(), purpose.encode() + b"\x00" + token.encode(), hashlib.sha256
    ).digest()


def me(server: Server, actor: Actor) -> int:
    return dataclasses.replace(actor, server=server).get("/v1/me").status_code


def workspace(server: Server, issued: Issued, key: str) -> int:
    return KeyClient(server, key).get(f"/v1/workspaces/{issued.workspace_id}").status_code


def stored_session_hashes(issued: Issued) -> set[bytes]:
    rows = issued.db.rows(
        "SELECT s.token_hash FROM user_session s JOIN user_account u ON u.id = s.user_id "
        "WHERE u.email = %s",
        issued.used.email,
    )
    return {bytes(row[0]) for row in rows}


def stored_key_hash(issued: Issued, key: str) -> bytes:
    rows = issued.db.rows(
        "SELECT key_hash FROM api_key WHERE key_hash IN (%s, %s)",
        under(KEY_A, "api_key", key),
        under(KEY_B, "api_key", key),
    )
    assert len(rows) == 1
    return bytes(rows[0][0])


def test_rotation_keeps_credentials_and_drops_what_the_old_key_alone_knew(issued: Issued) -> None:
    server = issued.restart(None, "b-and-a", SECRET_KEY=KEY_B, SECRET_KEY_PREVIOUS=KEY_A)
    try:
        # Issued under A, accepted under the ring B+A.
        assert me(server, issued.used) == 200
        assert workspace(server, issued, issued.used_key) == 200
        # ...and re-hashed under B on that use (lazy migration), leaving the idle ones under A.
        b_session = under(KEY_B, "session", issued.used.cookie or "")
        a_idle = under(KEY_A, "session", issued.idle.cookie or "")
        assert stored_session_hashes(issued) == {b_session, a_idle}
        assert stored_key_hash(issued, issued.used_key) == under(KEY_B, "api_key", issued.used_key)
        assert stored_key_hash(issued, issued.idle_key) == under(KEY_A, "api_key", issued.idle_key)
        # Nothing else weakened: a tampered cookie or key is still refused.
        cookie = issued.used.cookie or ""
        tampered = cookie[:-1] + ("A" if cookie[-1] != "A" else "B")
        assert_problem(send(server, "GET", "/v1/me", headers=cookie_header(tampered)), 401)
        assert (
            workspace(
                server, issued, issued.used_key[:-1] + ("x" if issued.used_key[-1] != "x" else "y")
            )
            == 401
        )
        # A link mailed under A still works while A is in the ring.
        reset = Anonymous(server).post(
            "/v1/auth/password-reset/confirm",
            # pragma: allowlist nextline secret (a fake made at run time)
            json={"token": issued.reset_token, "new_password": "pw-" + secrets.token_urlsafe(18)},
        )
        assert reset.status_code == 204, reset.text
        # New credentials are issued under B only.
        fresh = login(server, issued.used.email, issued.used.password)
        assert under(KEY_B, "session", fresh.cookie or "") in stored_session_hashes(issued)

        server = issued.restart(server, "b-only", SECRET_KEY=KEY_B)
        # Re-hashed while A was in the ring: still valid.
        assert me(server, issued.used) == 200
        assert me(server, fresh) == 200
        assert workspace(server, issued, issued.used_key) == 200
        # Known only under A: refused once A leaves the ring.
        assert_problem(dataclasses.replace(issued.idle, server=server).get("/v1/me"), 401)
        assert_problem(
            KeyClient(server, issued.idle_key).get(f"/v1/workspaces/{issued.workspace_id}"), 401
        )
    finally:
        stop(server)


def test_the_refused_credentials_still_work_under_their_own_key(issued: Issued) -> None:
    """The control for the 401s above: the idle session and key were refused because A left
    the ring, not because anything revoked them."""
    server = issued.restart(None, "a-again", SECRET_KEY=KEY_A)
    try:
        assert me(server, issued.idle) == 200
        assert workspace(server, issued, issued.idle_key) == 200
    finally:
        stop(server)
