"""clients/python: the typed client generated from the OpenAPI (issue 17).

Drift: regenerating (``make client``: openapi-python-client, pinned, from the document the app
serves) into a temporary directory must give exactly the committed files, so a route or schema
change without ``make client`` fails here. Use: the committed client signs in and reads
``/v1/me`` on a development server, keeping its session the way the README says.
"""

from __future__ import annotations

from pathlib import Path

from launchproof_client import Client
from launchproof_client.api.auth import login_v1_auth_login_post
from launchproof_client.api.me import get_me_v1_me_get
from launchproof_client.models import LoginRequest, UserRead

from app.devtools.openapi_client import CLIENT_DIR, generate
from tests.factories.users import signup
from tests.support import Database, Server


def files(root: Path) -> dict[str, bytes]:
    skip = ("__pycache__", ".mypy_cache", ".ruff_cache")
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and not any(part in skip for part in path.parts)
    }


def test_committed_client_matches_a_fresh_generation(tmp_path: Path) -> None:
    generate(tmp_path / "client")
    fresh, committed = files(tmp_path / "client"), files(CLIENT_DIR)
    changed = sorted(
        name for name in fresh.keys() | committed.keys() if fresh.get(name) != committed.get(name)
    )
    assert not changed, f"clients/python is stale: run `make client` ({changed[:10]})"


def test_generated_client_keeps_its_session_on_a_development_server(
    dev_server: Server, db: Database
) -> None:
    email, password = signup(dev_server, db)
    with Client(base_url=dev_server.url, headers={"Origin": dev_server.origin}) as client:
        login = login_v1_auth_login_post.sync_detailed(
            client=client, body=LoginRequest(email=email, password=password)
        )
        assert login.status_code == 200, login.content
        me = get_me_v1_me_get.sync(client=client)
        assert isinstance(me, UserRead)
        assert me.email == email
