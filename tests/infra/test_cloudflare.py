"""Policy for the edge (infra/cloudflare/): the settings that must be there and not weakened.

No terraform binary offline: the files are parsed with python-hcl2 and checked as data. Each
test names the property it guards; removing or weakening it in the .tf files turns it red.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from app.core.security_headers import HSTS
from tests.infra.cloudflare_tf import CLOUDFLARE_DIR, ROOT, Terraform, loaded

pytestmark = pytest.mark.checklist(
    "C11",
    red="weaken SSL below Full (strict), drop HSTS or the WAF rulesets, expose the origin outside"
    " the Tunnel, proxy no longer, cache /v1/*, or drop a health check in infra/cloudflare/",
)

TF_FILES = sorted(CLOUDFLARE_DIR.glob("*.tf"))


@pytest.fixture(scope="module")
def tf() -> Terraform:
    return loaded()


def _setting(tf: Terraform, setting_id: str) -> Any:
    values = [
        body["value"]
        for body in tf.resources("cloudflare_zone_setting").values()
        if body.get("setting_id") == setting_id
    ]
    assert len(values) == 1, f"zone setting {setting_id} missing or duplicated"
    return values[0]


def _ruleset(tf: Terraform, phase: str) -> dict[str, Any]:
    found = [r for r in tf.resources("cloudflare_ruleset").values() if r.get("phase") == phase]
    assert len(found) == 1, f"one ruleset in phase {phase} expected"
    return found[0]


def test_the_files_parse_and_look_like_terraform_fmt() -> None:
    """Not `terraform fmt` itself (no binary offline): its visible rules, by hand."""
    assert len(TF_FILES) >= 8
    for path in TF_FILES:
        text = path.read_text()
        assert text.endswith("\n"), path.name
        assert not text.endswith("\n\n"), path.name
        for number, line in enumerate(text.splitlines(), 1):
            where = f"{path.name}:{number}"
            assert "\t" not in line, where
            assert line == line.rstrip(), where
            assert (len(line) - len(line.lstrip(" "))) % 2 == 0, where


def test_the_provider_is_pinned_to_one_major_and_holds_no_credential(tf: Terraform) -> None:
    (terraform,) = tf.blocks["terraform"]
    provider = terraform["required_providers"][0]["cloudflare"]
    assert provider["source"] == "cloudflare/cloudflare"
    assert re.fullmatch(r"~> 5\.\d+", provider["version"]), provider["version"]
    (config,) = tf.blocks["provider"]
    assert set(config["cloudflare"]) <= {"__is_block__"}  # token from CLOUDFLARE_API_TOKEN
    for path in [*TF_FILES, CLOUDFLARE_DIR / "terraform.tfvars.example"]:
        text = path.read_text()
        assert not re.search(r"api_(token|key)\s*=", text), path.name
        assert "tunnel_secret" not in text, path.name


def test_tls_is_strict_end_to_end(tf: Terraform) -> None:
    assert _setting(tf, "ssl") == "strict"
    assert _setting(tf, "always_use_https") == "on"
    assert float(_setting(tf, "min_tls_version")) >= 1.2
    assert _setting(tf, "tls_1_3") in {"on", "zrt"}
    assert _setting(tf, "automatic_https_rewrites") == "on"


def test_hsts_at_the_edge_matches_the_app(tf: Terraform) -> None:
    hsts = _setting(tf, "security_header")["strict_transport_security"]
    assert hsts["enabled"] is True
    assert hsts["include_subdomains"] is True
    app_max_age = int(re.search(r"max-age=(\d+)", HSTS).group(1))  # type: ignore[union-attr]
    max_age = hsts["max_age"]
    if max_age == "${var.hsts_max_age_seconds}":
        max_age = tf.variables()["hsts_max_age_seconds"]["default"]
    assert int(max_age) >= app_max_age
    assert ("includeSubDomains" in HSTS) == hsts["include_subdomains"]


def test_waf_managed_rulesets_run_on_every_request(tf: Terraform) -> None:
    ruleset = _ruleset(tf, "http_request_firewall_managed")
    local = tf.locals()
    executed = {
        rule["action_parameters"]["id"]
        for rule in ruleset["rules"]
        if rule["action"] == "execute" and rule["enabled"] and rule["expression"] == "true"
    }
    assert "${local.cloudflare_managed_ruleset_id}" in executed
    assert local["cloudflare_managed_ruleset_id"] == "efb7b8c949ac4650a09736fc376e9aee"
    assert "${local.owasp_core_ruleset_id}" in executed
    assert local["owasp_core_ruleset_id"] == "4814384a9e5d4991b9815dcfc25d2f1f"


def test_the_origin_is_reached_through_the_tunnel_only(tf: Terraform) -> None:
    tunnel = tf.resource("cloudflare_zero_trust_tunnel_cloudflared", "api")
    assert tunnel["config_src"] == "cloudflare"
    config = tf.resource("cloudflare_zero_trust_tunnel_cloudflared_config", "api")["config"]
    ingress = config["ingress"]
    assert ingress[0]["hostname"] == "${local.api_host}"
    assert ingress[-1] == {"service": "http_status:404"}  # nothing else is carried in
    assert all(rule.get("origin_request", {}).get("no_tls_verify") is not True for rule in ingress)
    record = tf.resource("cloudflare_dns_record", "api")
    assert record["type"] == "CNAME"
    assert record["content"].endswith(".cfargotunnel.com")
    assert record["proxied"] is True


def test_every_address_record_is_proxied(tf: Terraform) -> None:
    records = tf.resources("cloudflare_dns_record")
    addressed = {n: r for n, r in records.items() if r["type"] in {"A", "AAAA", "CNAME"}}
    assert addressed
    assert all(r["proxied"] is True for r in addressed.values()), addressed


def test_the_api_is_never_cached(tf: Terraform) -> None:
    from tests.infra.cloudflare_tf import Request, matches

    ruleset = _ruleset(tf, "http_request_cache_settings")
    bypass = [
        r
        for r in ruleset["rules"]
        if r["action"] == "set_cache_settings" and r["action_parameters"].get("cache") is False
    ]
    for path in ("/v1/me", "/v1/conversations/x/messages", "/healthz", "/readyz"):
        assert any(matches(r["expression"], Request("GET", path)) for r in bypass), path
    caching = [r for r in ruleset["rules"] if r["action_parameters"].get("cache") is True]
    assert not any(matches(r["expression"], Request("GET", "/v1/me")) for r in caching)


def test_other_names_redirect_to_the_canonical_host(tf: Terraform) -> None:
    (rule,) = _ruleset(tf, "http_request_dynamic_redirect")["rules"]
    assert rule["action"] == "redirect"
    assert rule["enabled"] is True
    redirect = rule["action_parameters"]["from_value"]
    assert redirect["status_code"] == 301
    assert redirect["preserve_query_string"] is True
    assert redirect["target_url"]["expression"].startswith('concat("https://${local.api_host}"')
    assert "http.host in" in rule["expression"]
    assert "local.redirect_from" in rule["expression"]
    assert "${var.domain}" in tf.locals()["redirect_from"]


def test_email_records_are_published(tf: Terraform) -> None:
    records = tf.resources("cloudflare_dns_record")
    contents = {records[name]["content"].split(";")[0].split(" ")[0] for name in records}
    assert {"v=spf1", "v=DKIM1", "v=DMARC1"} <= contents
    dmarc = records["dmarc"]["content"]
    assert "p=quarantine" in dmarc or "p=reject" in dmarc


def test_the_checklist_probes_are_health_checked_and_notified(tf: Terraform) -> None:
    checks = tf.locals()["health_checks"]
    paths = {name: check["path"] for name, check in checks.items()}
    assert paths["healthz"] == "/healthz"
    assert paths["login"] == "/v1/auth/login"
    assert re.fullmatch(r"/v1/conversations/[^/]+/messages", paths["chat_send"])
    assert paths["webhook_receive"].startswith("/v1/webhooks/inbound/")
    healthcheck = tf.resource("cloudflare_healthcheck", "api")
    assert healthcheck["for_each"] == "${local.health_checks}"
    assert healthcheck["type"] == "HTTPS"
    assert healthcheck["http_config"]["allow_insecure"] is False
    assert healthcheck["suspended"] is False
    policy = tf.resource("cloudflare_notification_policy", "health_checks")
    assert policy["enabled"] is True
    assert policy["alert_type"] == "health_check_status_notification"
    assert "cloudflare_healthcheck.api" in policy["filters"]["health_check_id"]
    assert "Unhealthy" in policy["filters"]["status"]
    tunnel = tf.resource("cloudflare_notification_policy", "tunnel")
    assert tunnel["alert_type"] == "tunnel_health_event"
    assert tunnel["enabled"] is True


def test_the_health_check_answers_are_what_the_app_gives(server: Any) -> None:
    """Health Checks only GET: each path answers, through the real server, what they expect."""
    import httpx

    checks = loaded().locals()["health_checks"]
    for name, check in checks.items():
        path = re.sub(r"\$\{var\.[a-z_]+\}", _variable_default, check["path"])
        status = httpx.get(server.url + path, timeout=10).status_code
        assert str(status) in check["expected_codes"], (name, path, status)


def _variable_default(match: re.Match[str]) -> str:
    name = match.group(0)[len("${var.") : -1]
    return str(loaded().variables()[name]["default"])


def test_the_uptime_checks_and_the_health_checks_name_the_same_routes() -> None:
    import yaml

    uptime = yaml.safe_load((ROOT / "infra" / "uptime" / "checks.yml").read_text())
    names = {check["name"] for check in uptime["checks"]}
    assert set(loaded().locals()["health_checks"]) - {"healthz"} <= names
    assert "liveness" in names  # /healthz in the uptime list
