"""C11 alerts: the rules load, and their unit tests (fire and stay silent) pass, with the real
``promtool`` (Debian's ``prometheus`` package; ``.ci/run`` installs it). Under CI a missing
promtool fails the run instead of skipping.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import yaml

from tests.support import IN_CI, ROOT

pytestmark = pytest.mark.checklist(
    "C11",
    red="drop an alert (5xx rate, auth failures, webhook failures, latency) or its promtool unit "
    "test from infra/prometheus/, or rename a metric an alert uses",
)

PROMETHEUS = ROOT / "infra" / "prometheus"
REQUIRED_ALERTS = {
    "LaunchproofHigh5xxRate",
    "LaunchproofAuthFailureSpike",
    "LaunchproofLatencyP95OverBudget",
    "LaunchproofNotReady",
    "LaunchproofDependencyDown",
    "LaunchproofWebhookFailureRate",
    "LaunchproofWebhookBacklog",
    "LaunchproofScannerDown",
    "LaunchproofEmailDeliveryFailing",
    "LaunchproofUptimeCheckFailing",
}


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        if IN_CI:
            pytest.fail("promtool is missing (apt-get install prometheus; .ci/run does)")
        pytest.skip("promtool is not installed (Debian package: prometheus)")
    return found


def promtool_run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool(), *args],
        cwd=PROMETHEUS,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_rules_are_valid() -> None:
    result = promtool_run("check", "rules", "alerts.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_rule_unit_tests_pass() -> None:
    result = promtool_run("test", "rules", "tests/alerts_test.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_scrape_config_is_valid() -> None:
    result = promtool_run("check", "config", "--syntax-only", "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def _alerts() -> dict[str, dict[str, object]]:
    rules = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())
    return {
        rule["alert"]: rule
        for group in rules["groups"]
        for rule in group["rules"]
        if "alert" in rule
    }


def test_every_required_alert_exists_and_is_unit_tested() -> None:
    alerts = _alerts()
    assert set(alerts) >= REQUIRED_ALERTS
    tests = yaml.safe_load((PROMETHEUS / "tests" / "alerts_test.yml").read_text())
    firing: set[str] = set()
    silent: set[str] = set()
    for case in tests["tests"]:
        for check in case.get("alert_rule_test", []):
            (firing if check.get("exp_alerts") else silent).add(check["alertname"])
    assert set(alerts) <= firing, f"alerts never shown firing: {set(alerts) - firing}"
    untested_silence = REQUIRED_ALERTS - silent
    assert not untested_silence, f"alerts never shown staying silent: {untested_silence}"


def test_alerts_use_only_exported_metrics() -> None:
    """A renamed metric would silently disable an alert: names must exist in app/core/metrics."""
    from app.core.metrics import REGISTRY

    exported = {
        sample_name
        for metric in REGISTRY.collect()
        for sample_name in (
            metric.name,
            f"{metric.name}_total",
            f"{metric.name}_count",
            f"{metric.name}_bucket",
            f"{metric.name}_sum",
        )
    }
    text = (PROMETHEUS / "alerts.yml").read_text()
    used = set(re.findall(r"\b(launchproof_[a-z0-9_]+)", text))
    assert used, "no metric found in alerts.yml"
    assert used <= exported, f"alerts use metrics the app does not export: {used - exported}"
