"""The access checks against the project's own stack in production mode: every one PASSes,
within a small share of the request budget, and leaves nothing behind.

Also the route inventory they walk: generated from the application's route table (drift test),
shipped as package data, and the ``--openapi`` reading of this application's own document.
"""

from __future__ import annotations

import fnmatch
import json
import secrets
import tomllib
from pathlib import Path

import pytest
import redis

from app.core.config import Environment, Settings
from app.core.secret_scan import find_secret_types
from app.main import create_app
from app.scorecard.context import Account
from app.scorecard.model import Status
from app.scorecard.routes import bundled_routes, openapi_routes
from tests.route_table import private_routes
from tests.scorecard.harness import describe, run_checks
from tests.scorecard.routes_data import TARGET, render
from tests.scorecard.stack import HOST, Stack
from tests.support import ROOT, Database

# A whole access run: ~110 authentication, ~80 authorization, ~15 cors, ~16 input, ~10 secrets.
ACCESS_REQUEST_CEILING = 400


@pytest.mark.checklist("C1", red="add a route without regenerating routes.json")
def test_the_bundled_inventory_is_current() -> None:
    assert TARGET.read_text(encoding="utf-8") == render(), (
        "app/scorecard/data/routes.json is stale: python -m tests.scorecard.routes_data"
    )


def test_the_inventory_classifies_routes_as_the_app_does() -> None:
    bundled = {(r.method, r.path) for r in bundled_routes() if not r.public}
    assert bundled == {route.key for route in private_routes()}


def test_the_inventory_ships_in_the_wheel() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["app.scorecard"]
    assert any(fnmatch.fnmatch("data/routes.json", pattern) for pattern in patterns)


def _own_openapi(tmp_path: Path) -> Path:
    settings = Settings(
        environment=Environment.TEST,
        secret_key=secrets.token_urlsafe(48),
        docs_enabled=True,
        allowed_hosts=["127.0.0.1"],
    )
    path = tmp_path / "openapi.json"
    path.write_text(json.dumps(create_app(settings).openapi()), encoding="utf-8")
    return path


def test_the_apps_openapi_document_gives_the_same_inventory(tmp_path: Path) -> None:
    from_openapi = {
        (r.method, r.path, r.params, r.public) for r in openapi_routes(_own_openapi(tmp_path))
    }
    bundled = {(r.method, r.path, r.params, r.public) for r in bundled_routes()}
    # Every private route is in the document, read as private with the same parameters; the
    # document leaves out only operational public routes (health, metrics).
    assert from_openapi <= bundled
    assert all(public for _m, _p, _params, public in bundled - from_openapi)


def test_openapi_security_and_the_public_list_decide_private(tmp_path: Path) -> None:
    document = {
        "security": [{"bearer": []}],
        "paths": {
            "/v1/auth/login": {"post": {"security": []}},  # public here and in the bundled list
            "/v1/auth/signup": {"post": {}},  # inherits the document's security: private
            "/v1/extra/{thing_id}": {
                "parameters": [{"in": "path", "name": "thing_id", "schema": {"format": "uuid"}}],
                "get": {"security": []},  # claims public, but this release does not publish it
            },
        },
    }
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    routes = {route.label: route for route in openapi_routes(path)}
    assert routes["POST /v1/auth/login"].public
    assert not routes["POST /v1/auth/signup"].public
    extra = routes["GET /v1/extra/{thing_id}"]
    assert not extra.public
    assert [(p.name, p.format) for p in extra.params] == [("thing_id", "uuid")]


def _fresh_rate_limits(stack: Stack) -> None:
    """Full budgets: the stack is shared by the session's tests, and each run of the check spends
    about six of its ten logins a minute. The keys are this stack's own (its
    RATE_LIMIT_KEY_PREFIX is unique to the test run)."""
    client = redis.Redis.from_url(stack.env["REDIS_URL"])
    try:
        for key in client.scan_iter(match=f"{stack.env['RATE_LIMIT_KEY_PREFIX']}*"):
            client.delete(key)
    finally:
        client.close()


@pytest.mark.checklist(
    "C1",
    "C2",
    "C4",
    "C5",
    "C7",
    red="remove a protection an access check asks about (HttpOnly, the CSRF check)",
)
def test_every_access_check_passes_against_the_stack(
    scorecard_stack: Stack, scorecard_db: Database
) -> None:
    _fresh_rate_limits(scorecard_stack)
    accounts = tuple(Account(email, password) for email, password in scorecard_stack.accounts)
    try:
        report = run_checks(
            scorecard_stack.base_url,
            accounts=accounts,
            resolve={HOST: "127.0.0.1"},
            ca_file=str(scorecard_stack.ca_file),
        )
    finally:  # and full budgets for the tests after this one (a whole-stack report, say)
        _fresh_rate_limits(scorecard_stack)
    for found in report.findings:
        expected = (
            Status.NOT_CHECKED if found.check == "authorization.webhook_endpoints" else Status.PASS
        )
        assert found.status is expected, describe(found)
    assert not report.checker_errors
    assert not report.cleanup_errors
    assert report.requests_used < ACCESS_REQUEST_CEILING
    # Nothing left behind: A's throwaway objects are gone, every session of the run signed out.
    db = scorecard_db
    assert db.scalar("SELECT count(*) FROM workspace WHERE name = 'launchproof check'") == 0
    live = db.scalar(
        "SELECT count(*) FROM user_session s JOIN user_account u ON u.id = s.user_id "
        "WHERE u.email = ANY(%s) AND s.revoked_at IS NULL",
        [email for email, _ in scorecard_stack.accounts],
    )
    assert live == 0
    evidence = "\n".join(item.line() for found in report.findings for item in found.evidence)
    assert not find_secret_types(evidence)
    assert all(password not in evidence for _, password in scorecard_stack.accounts)
