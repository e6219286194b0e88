"""Local webhook receivers in development (docs/configuration.md, outbound requests).

``make run``'s ``.data/dev.env`` (written by ``python -m app dev-db``) allows 127.0.0.1, so a
receiver on the developer's machine registers at once on a development server; production refuses
that setting (tests/core/test_config.py). A refused loopback or private receiver outside
production gets a detail naming ``OUTBOUND_DEV_ALLOWED_ADDRESSES``; production's stays the plain
sentence of app/core/outbound/errors.py.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from app.core.config import Environment, Settings
from app.core.errors import Unprocessable
from app.webhooks.outbound.policy import check_endpoint_url
from tests.factories.users import signup
from tests.factories.workspaces import create_workspace
from tests.support import (
    Actor,
    Database,
    Server,
    base_env,
    free_port,
    run_cli,
    session_cookie,
)

EVENTS = ["conversation.created"]
SETTING = "OUTBOUND_DEV_ALLOWED_ADDRESSES"


def dev_actor(server: Server, db: Database) -> Actor:
    email, password = signup(server, db)
    actor = Actor(
        server=server, email=email, password=password, user_id="", cookie_name="lp_session"
    )
    login = actor.post("/v1/auth/login", json={"email": email, "password": password})
    assert login.status_code == 200, login.text
    actor.cookie = session_cookie(login, "lp_session")
    return actor


def test_make_run_dev_env_allows_loopback_and_production_refuses_to_write_it(
    dev_env_file: dict[str, str], db: Database, tmp_path: Path
) -> None:
    assert dev_env_file[SETTING] == "127.0.0.1"
    refused = run_cli(
        base_env(db, ENVIRONMENT="production"), "dev-db", "--env-file", str(tmp_path / "x.env")
    )
    assert refused.returncode != 0
    assert not (tmp_path / "x.env").exists()


def test_local_receiver_registers_on_a_development_server(dev_server: Server, db: Database) -> None:
    actor = dev_actor(dev_server, db)
    workspace = create_workspace(actor)
    response = actor.post(
        f"/v1/workspaces/{workspace}/webhook-endpoints",
        json={"url": f"http://127.0.0.1:{free_port()}/hook", "event_types": EVENTS},
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://127.0.0.1:9/hook", "url_ip_literal"),
        ("http://localhost:9/hook", "url_blocked_address"),
    ],
)
def test_refused_local_receiver_names_the_setting(alice: Actor, url: str, code: str) -> None:
    """The suite's server allows 127.0.0.2 only: 127.0.0.1 and localhost are refused."""
    workspace = create_workspace(alice)
    response = alice.post(
        f"/v1/workspaces/{workspace}/webhook-endpoints", json={"url": url, "event_types": EVENTS}
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == code
    assert SETTING in problem["detail"]
    assert "127.0.0.1:9" not in problem["detail"]
    assert "localhost" not in problem["detail"]


def test_production_refusal_carries_no_development_hint() -> None:
    settings = Settings(environment=Environment.PRODUCTION)
    with pytest.raises(Unprocessable) as refused:
        asyncio.run(check_endpoint_url(settings, "https://127.0.0.1/hook"))
    assert refused.value.code == "url_ip_literal"
    assert SETTING not in str(refused.value.detail)
