"""C11 uptime checks: the checks in infra/uptime/ exercise routes the app really serves (login,
chat send, webhook receive, health), each with a blackbox module that exists, and Prometheus
probes every one of them. A renamed route or module fails here, not silently in production.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support import ROOT

pytestmark = pytest.mark.checklist(
    "C11",
    red="remove the login, chat send, inbound webhook or health check from infra/uptime/, point "
    "one at a route the app does not serve, or stop Prometheus probing it",
)

UPTIME = ROOT / "infra" / "uptime"
REQUIRED = {"health", "login", "chat_send", "webhook_receive"}


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def app_routes() -> set[tuple[str, str]]:
    """(method, path template) of every route the app serves (the route inventory's table)."""
    from tests.route_table import route_table

    return {(route.method, route.path) for route in route_table()}


def checks() -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = load(UPTIME / "checks.yml")["checks"]
    return items


def test_the_required_checks_are_defined() -> None:
    assert {check["name"] for check in checks()} >= REQUIRED


def test_every_check_targets_a_served_route() -> None:
    routes = app_routes()
    for check in checks():
        assert (check["method"], check["route"]) in routes, f"{check['name']}: no such route"
        pattern = "^" + re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(check["route"])) + "$"
        assert re.match(pattern, check["path"]), f"{check['name']}: path does not fit its route"


def test_every_check_has_a_blackbox_module_expecting_its_status() -> None:
    modules = load(UPTIME / "blackbox.yml")["modules"]
    for check in checks():
        module = modules[check["module"]]
        assert module["prober"] == "http"
        assert module["http"]["method"] == check["method"]
        assert module["http"]["valid_status_codes"] == [check["expect_status"]]
        assert module["http"]["follow_redirects"] is False


def test_prometheus_probes_every_check() -> None:
    config = load(ROOT / "infra" / "prometheus" / "prometheus.yml")
    job = next(j for j in config["scrape_configs"] if j["job_name"] == "launchproof-uptime")
    base = load(UPTIME / "checks.yml")["base_url"]
    probed = {
        (group["labels"]["check"], group["labels"]["module"], target)
        for group in job["static_configs"]
        for target in group["targets"]
    }
    expected = {(c["name"], c["module"], base + c["path"]) for c in checks()}
    assert probed == expected
