"""clients/python: the typed client generated from the OpenAPI (README, `make client`).

Drift: regenerating (``make client``: openapi-python-client, pinned, from the document the app
serves) into a temporary directory must give exactly the committed files, so a route or schema
change without ``make client`` fails here. Use: the committed client signs in on a
development server and works through both security schemes of the contract: the session cookie
(``AuthenticatedClient`` sending it as the ``Cookie`` header) and a workspace API key (bearer).
"""

from __future__ import annotations

from pathlib import Path

from launchproof_client import AuthenticatedClient, Client
from launchproof_client.api.api_keys import create_api_key_v1_workspaces_workspace_id_api_keys_post
from launchproof_client.api.auth import login_v1_auth_login_post
from launchproof_client.api.bots import list_bots_v1_workspaces_workspace_id_bots_get
from launchproof_client.api.me import get_me_v1_me_get
from launchproof_client.api.workspaces import create_workspace_v1_workspaces_post
from launchproof_client.models import (
    ApiKeyCreate,
    ApiKeyCreated,
    BotList,
    LoginRequest,
    Scope,
    UserRead,
    WorkspaceCreate,
    WorkspaceRead,
)

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


def test_generated_client_works_with_a_session_and_with_an_api_key(
    dev_server: Server, db: Database
) -> None:
    email, password = signup(dev_server, db)
    origin = {"Origin": dev_server.origin}
    with Client(base_url=dev_server.url, headers=origin) as client:
        login = login_v1_auth_login_post.sync_detailed(
            client=client, body=LoginRequest(email=email, password=password)
        )
        assert login.status_code == 200, login.content
        jar = client.get_httpx_client().cookies
        name, value = next(iter(jar.items()))
    session = AuthenticatedClient(
        base_url=dev_server.url,
        token=f"{name}={value}",
        prefix="",
        auth_header_name="Cookie",
        headers=origin,
    )
    with session:
        me = get_me_v1_me_get.sync(client=session)
        assert isinstance(me, UserRead)
        assert me.email == email
        workspace = create_workspace_v1_workspaces_post.sync(
            client=session, body=WorkspaceCreate(name="typed client")
        )
        assert isinstance(workspace, WorkspaceRead)
        created = create_api_key_v1_workspaces_workspace_id_api_keys_post.sync(
            workspace.id, client=session, body=ApiKeyCreate(name="typed", scopes=[Scope.BOTSREAD])
        )
        assert isinstance(created, ApiKeyCreated)
    with AuthenticatedClient(base_url=dev_server.url, token=created.key) as keyed:
        bots = list_bots_v1_workspaces_workspace_id_bots_get.sync(workspace.id, client=keyed)
        assert isinstance(bots, BotList)
        assert bots.items == []
