"""infra/k8s renders with kustomize and validates offline: the built-in kinds against the
Kubernetes OpenAPI schemas (kubernetes-validate --strict: unknown fields are errors), the custom
resources (ExternalSecret, ServiceMonitor, PrometheusRule) structurally, and the whole of each
overlay with checkov (its own venv: make checkov-venv). Under CI a missing tool fails.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.infra.k8s_render import (
    K8S,
    OVERLAYS,
    PARTS,
    Doc,
    by_kind,
    kustomize,
    pods,
    prometheus_rule,
    render,
    render_all,
    tool,
)
from tests.support import IN_CI, ROOT

pytestmark = pytest.mark.checklist(
    "C14",
    red="add an unknown field or a checkov-failing pod spec to infra/k8s, or leave an image "
    "placeholder the pipeline does not pin",
)

CUSTOM = {
    ("external-secrets.io/v1", "ExternalSecret"),
    ("monitoring.coreos.com/v1", "ServiceMonitor"),
    ("monitoring.coreos.com/v1", "PrometheusRule"),
}
# The oldest Kubernetes these manifests target (preStop "sleep" needs 1.30+) and the newest
# schemas the validator ships.
KUBERNETES_VERSIONS = ("1.31.0", "1.37.0")
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"


def write(docs: list[Doc], path: Path) -> Path:
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    return path


@pytest.mark.parametrize("part", PARTS)
@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_builtin_kinds_validate_strictly(
    overlay: str, part: str, version: str, tmp_path: Path
) -> None:
    docs = render(overlay, part)
    builtin = [d for d in docs if (d["apiVersion"], d["kind"]) not in CUSTOM]
    assert builtin
    binary = tool("kubernetes-validate", "pip install kubernetes-validate; the test extra has it")
    result = subprocess.run(
        [
            binary,
            "--strict",
            "--kubernetes-version",
            version,
            str(write(builtin, tmp_path / "r.yaml")),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    # Every built-in kind had a schema: a typo in apiVersion/kind is not silently skipped.
    assert "Couldn't find schema" not in output, output
    assert output.count("passed for resource") == len(builtin), output


def test_the_validator_rejects_an_unknown_field(tmp_path: Path) -> None:
    docs = [d for d in render("production", "app") if d["kind"] == "Deployment"]
    docs[0]["spec"]["template"]["spec"]["containers"][0]["securityContext"]["readOnlyRoot"] = True
    binary = tool("kubernetes-validate", "pip install kubernetes-validate")
    result = subprocess.run(
        [binary, "--strict", str(write(docs, tmp_path / "bad.yaml"))],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "readOnlyRoot" in result.stdout + result.stderr


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_external_secrets_are_well_formed(overlay: str) -> None:
    secrets = by_kind(render_all(overlay), "ExternalSecret")
    assert {es["metadata"]["name"] for es in secrets} == {
        "launchproof-app",
        "launchproof-cloudflared",
        "launchproof-backup",
        "launchproof-migrate",
    }
    for es in secrets:
        assert es["apiVersion"] == "external-secrets.io/v1"
        spec = es["spec"]
        assert set(spec) <= {"refreshInterval", "secretStoreRef", "target", "data"}, spec
        assert spec["secretStoreRef"]["kind"] in ("SecretStore", "ClusterSecretStore")
        assert spec["secretStoreRef"]["name"] == f"launchproof-{overlay}"
        assert spec["target"]["name"] == es["metadata"]["name"]
        assert spec["data"], es["metadata"]["name"]
        for item in spec["data"]:
            assert set(item) == {"secretKey", "remoteRef"}
            assert item["remoteRef"]["key"].startswith(f"launchproof/{overlay}/")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_service_monitors_point_at_real_ports(overlay: str) -> None:
    docs = render(overlay, "app")
    monitors = by_kind(docs, "ServiceMonitor")
    assert {m["metadata"]["name"] for m in monitors} == {"launchproof-api", "launchproof-worker"}
    services = by_kind(docs, "Service")
    for monitor in monitors:
        wanted = monitor["spec"]["selector"]["matchLabels"]
        matched = [s for s in services if wanted.items() <= s["metadata"]["labels"].items()]
        assert len(matched) == 1, monitor["metadata"]["name"]
        ports = {p["name"] for p in matched[0]["spec"]["ports"]}
        for endpoint in monitor["spec"]["endpoints"]:
            assert endpoint["port"] in ports
    api = [m for m in monitors if m["metadata"]["name"] == "launchproof-api"][0]
    auth = api["spec"]["endpoints"][0]["authorization"]
    # /metrics answers only the bearer METRICS_TOKEN, read from the Secret the API mounts.
    assert auth == {
        "type": "Bearer",
        "credentials": {"name": "launchproof-app", "key": "metrics_token"},
    }


def test_prometheus_rule_matches_the_alert_rules() -> None:
    rendered = by_kind(render("production", "app"), "PrometheusRule")
    assert len(rendered) == 1
    assert rendered[0]["spec"] == prometheus_rule()["spec"], (
        "infra/k8s/base/app/prometheusrule.yaml drifted from infra/prometheus/alerts.yml: "
        "python -m tests.infra.k8s_render prometheusrule > infra/k8s/base/app/prometheusrule.yaml"
    )


def checkov() -> str:
    if not CHECKOV.exists():
        if IN_CI:
            pytest.fail("checkov is missing: make checkov-venv")
        pytest.skip("checkov is not installed: make checkov-venv")
    return str(CHECKOV)


def run_checkov(directory: Path) -> dict[str, object]:
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_NO_OUTPUT_COLOR": "1"}
    result = subprocess.run(
        [checkov(), "-d", str(directory), "--framework", "kubernetes", "--skip-download"]
        + ["--output", "json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=env,
    )
    report = json.loads(result.stdout)
    found: dict[str, object] = report[0] if isinstance(report, list) else report
    return found


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_checkov_finds_nothing(overlay: str, tmp_path: Path) -> None:
    for part in PARTS:
        write(render(overlay, part), tmp_path / f"{part}.yaml")
    report = run_checkov(tmp_path)
    failed = report["results"]["failed_checks"]  # type: ignore[index]
    summary = report["summary"]
    assert summary["parsing_errors"] == 0, summary  # type: ignore[index]
    assert summary["passed"] > 100, summary  # type: ignore[index]
    assert not failed, [(f["check_id"], f["resource"], f["check_name"]) for f in failed]


def test_checkov_notices_a_weakened_pod(tmp_path: Path) -> None:
    docs = render("production", "app")
    for doc in docs:
        if doc["kind"] == "Deployment":
            doc["spec"]["template"]["spec"]["containers"][0]["securityContext"] = {}
    write(docs, tmp_path / "weak.yaml")
    failed = run_checkov(tmp_path)["results"]["failed_checks"]  # type: ignore[index]
    assert {"CKV_K8S_20", "CKV_K8S_22", "CKV_K8S_28"} <= {f["check_id"] for f in failed}


def test_every_kustomization_is_rendered() -> None:
    """A new overlay or a renamed directory cannot escape the tests above."""
    found = {
        p.parent.relative_to(K8S / "overlays") for p in K8S.glob("overlays/**/kustomization.yaml")
    }
    expected = {Path(o) for o in OVERLAYS} | {Path(o) / "migrate" for o in OVERLAYS}
    expected |= {Path(o) / "env" for o in OVERLAYS}  # components, rendered through both
    assert found == expected


def pin_images(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(K8S / "pin_images.py"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_pipeline_pins_one_digest_for_the_app_and_its_job(tmp_path: Path) -> None:
    """The documented pipeline step: placeholders refused, then one digest everywhere."""
    tree = tmp_path / "k8s"
    shutil.copytree(K8S, tree)
    component = str(tree / "overlays" / "production" / "env")
    assert pin_images("--check", component).returncode == 1
    bad = pin_images(component, "launchproof=ghcr.io/acme/launchproof:1.0")
    assert bad.returncode == 2
    reference = "registry.example.net/acme/launchproof@sha256:" + "ab" * 32
    others = [
        f"{name}=docker.io/x/{name}@sha256:{'cd' * 32}" for name in ("cloudflared", "pg-dump")
    ]
    assert pin_images(component, f"launchproof={reference}", *others).returncode == 0
    assert pin_images("--check", component).returncode == 0
    rendered = kustomize(tree / "overlays" / "production") + kustomize(
        tree / "overlays" / "production" / "migrate"
    )
    images = {p.component: p.spec["containers"][0]["image"] for p in pods(rendered)}
    assert images["api"] == images["worker"] == images["migrate"] == reference
    assert images["cloudflared"] == f"docker.io/x/cloudflared@sha256:{'cd' * 32}"
