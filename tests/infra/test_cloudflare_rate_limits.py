"""Edge rate limits in front of the app's budgets: every abuse-prone budget has an edge rule
whose expression matches its route, and no edge rule is stricter than the app (edge coarse,
app exact: docs/rate-limits.md#edge-and-app).

The budgets come from ``Budget`` (a new budget fails here until it is placed); each sample
request is checked against the app's real route table, and the rule expressions are evaluated
(tests/infra/cloudflare_tf.py), not searched for substrings.
"""

from __future__ import annotations

import math
import re
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from limits import parse_many

from app.api import api_router
from app.core.config import Settings
from app.core.rate_limit import SETTING, Budget
from tests.infra.cloudflare_tf import Request, Terraform, loaded, matches

pytestmark = pytest.mark.checklist(
    "C6",
    red="add a rate-limit Budget without an edge rule in infra/cloudflare/, widen a rule to "
    "neighbouring routes, or make an edge rule stricter than the app",
)

ID = "0b5c3f4e-8d1a-4c2b-9e7f-112233445566"
# Budget -> the requests it meters (one per route). READ is not abuse-prone at the edge: every
# authenticated GET, failing open, and the edge would only duplicate it. CSP_REPORT neither: the
# console's violation reports are tiny (capped at 8 KiB), change nothing and fail open.
BUDGET_ROUTES: dict[Budget, list[Request]] = {
    Budget.LOGIN_IP: [Request("POST", "/v1/auth/login")],
    Budget.LOGIN_ACCOUNT: [Request("POST", "/v1/auth/login")],
    Budget.SIGNUP_IP: [Request("POST", "/v1/auth/signup")],
    Budget.PASSWORD_RESET_IP: [
        Request("POST", "/v1/auth/password-reset"),
        Request("POST", "/v1/auth/password-reset/confirm"),
    ],
    Budget.PASSWORD_RESET_ACCOUNT: [Request("POST", "/v1/auth/password-reset")],
    Budget.VERIFY_EMAIL_IP: [Request("POST", "/v1/auth/verify-email")],
    Budget.VERIFY_EMAIL_ACCOUNT: [Request("POST", "/v1/auth/verify-email")],
    Budget.CHAT_SEND: [Request("POST", f"/v1/conversations/{ID}/messages")],
    Budget.UPLOAD: [Request("POST", f"/v1/workspaces/{ID}/files")],
    Budget.WEBHOOK: [Request("POST", "/v1/webhooks/inbound/billing")],
    Budget.API_KEY_CREATE: [Request("POST", f"/v1/workspaces/{ID}/api-keys")],
    Budget.INVITATION: [Request("POST", f"/v1/workspaces/{ID}/invitations")],
    Budget.WEBHOOK_REPLAY: [
        Request("POST", f"/v1/webhook-endpoints/{ID}/recover"),
        Request("POST", f"/v1/webhook-endpoints/{ID}/deliveries/{ID}/redeliver"),
    ],
    Budget.ADMIN: [Request("GET", "/v1/admin/users"), Request("POST", f"/v1/admin/users/{ID}/x")],
    Budget.SECOND_FACTOR_IP: [
        Request("POST", "/v1/auth/login/second-factor"),
        Request("POST", "/v1/auth/step-up"),
    ],
    Budget.SECOND_FACTOR_ACCOUNT: [
        Request("POST", "/v1/auth/login/second-factor"),
        Request("POST", "/v1/auth/step-up"),
    ],
}
NOT_AT_THE_EDGE = {Budget.READ, Budget.CSP_REPORT}


@pytest.fixture(scope="module")
def tf() -> Terraform:
    return loaded()


def edge_rules(tf: Terraform) -> dict[str, dict[str, Any]]:
    rules: dict[str, dict[str, Any]] = tf.locals()["edge_rate_limits"]
    return rules


def _routes() -> list[tuple[str, re.Pattern[str]]]:
    table = []
    for context in iter_route_contexts(api_router.routes):
        pattern = re.sub(r"\{[^}]+\}", "[^/]+", str(context.path))
        for method in context.methods or ():
            table.append((method, re.compile(pattern + "$")))
    return table


def test_every_budget_is_placed() -> None:
    assert set(BUDGET_ROUTES) | NOT_AT_THE_EDGE == set(Budget)


def test_the_sample_requests_are_real_routes() -> None:
    routes = _routes()
    for budget, requests in BUDGET_ROUTES.items():
        for request in requests:
            if budget is Budget.ADMIN and request.method == "POST":
                continue  # a made-up admin path: the rule covers the whole /v1/admin/ prefix
            assert any(
                method == request.method and pattern.match(request.path)
                for method, pattern in routes
            ), (budget, request)


def test_the_ruleset_deploys_every_edge_rule(tf: Terraform) -> None:
    ruleset = tf.resource("cloudflare_ruleset", "rate_limits")
    assert ruleset["phase"] == "http_ratelimit"
    assert ruleset["kind"] == "zone"
    rules = ruleset["rules"]
    assert rules.startswith("${[for ref, rule in local.edge_rate_limits :")
    for needle in (
        "expression = rule.expression",
        "requests_per_period = rule.requests_per_period",
        "enabled = true",
        'action = "block"',
        '"ip.src"',
        "status_code = 429",
    ):
        assert needle in rules, needle
    assert len(edge_rules(tf)) <= 5  # the Business plan's rule count (docs/deploy.md)


@pytest.mark.parametrize("budget", sorted(BUDGET_ROUTES, key=str), ids=str)
def test_each_abuse_prone_budget_has_an_edge_rule(tf: Terraform, budget: Budget) -> None:
    for request in BUDGET_ROUTES[budget]:
        covering = [n for n, r in edge_rules(tf).items() if matches(r["expression"], request)]
        assert covering, f"no edge rule covers {request.method} {request.path} ({budget})"


def test_edge_rules_do_not_match_neighbouring_routes(tf: Terraform) -> None:
    """A rule that matched everything would cover every budget and throttle reads too."""
    for request in (
        Request("GET", "/v1/me"),
        Request("GET", f"/v1/conversations/{ID}/messages"),
        Request("POST", "/v1/auth/logout"),
        Request("GET", "/healthz"),
    ):
        hits = [n for n, r in edge_rules(tf).items() if matches(r["expression"], request)]
        assert not hits, (request, hits)


PERIOD_SECONDS = 60


def _app_allowance(budget: Budget, seconds: int) -> int:
    """The most requests one principal may send in ``seconds`` under the app's default budget."""
    notation = Settings.model_fields[SETTING[budget]].default
    return min(
        item.amount * max(1, math.ceil(seconds / item.get_expiry()))
        for item in parse_many(notation)
    )


def test_the_edge_is_coarser_than_the_app(tf: Terraform) -> None:
    ruleset = tf.resource("cloudflare_ruleset", "rate_limits")["rules"]
    assert f"period = {PERIOD_SECONDS}," in ruleset
    for budget, requests in BUDGET_ROUTES.items():
        allowance = _app_allowance(budget, PERIOD_SECONDS)
        for request in requests:
            for name, rule in edge_rules(tf).items():
                if matches(rule["expression"], request):
                    assert rule["requests_per_period"] > allowance, (budget, name, allowance)
