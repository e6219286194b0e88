"""The GitHub workflows: actionlint (with shellcheck) and zizmor (offline) clean, and the
project's own policy, which each mutation below proves able to fail. Under CI a missing tool
fails the run instead of skipping.

Policy: no permissions at the top (or read-only), every job declares its own; every action pinned
by a full commit SHA with the version in a comment; checkouts keep no credentials; no
``pull_request_target`` that checks out the pull request's head; production deploys only from a
job in the ``production`` environment; secrets reach steps through ``env:`` and are never printed;
every job has a timeout, every workflow a concurrency group; the pipeline runs what
docs/deploy.md says it runs.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.commands import run_command
from tests.support import IN_CI, ROOT

pytestmark = pytest.mark.checklist(
    "C14",
    red="unpin an action, drop a pipeline step (lint, tests, attack suite, secret scan, image "
    "scan), grant write permissions at the top, or deploy production outside its environment",
)

WORKFLOWS = ROOT / ".github" / "workflows"
SCRIPTS = ROOT / ".github" / "scripts"
VENV_BIN = Path(sys.executable).parent
SHA_PIN = re.compile(r"^\s*-?\s*uses:\s*[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*\s*$")
DIGEST_PIN = re.compile(r"@sha256:[0-9a-f]{64}")
HEAD_REF = re.compile(r"github\.(head_ref|event\.pull_request\.head)")
LONG_LIVED_KEYS = re.compile(
    r"aws-access-key-id|aws-secret-access-key|AWS_SECRET_ACCESS_KEY|credentials_json|"
    r"GOOGLE_CREDENTIALS|ARM_CLIENT_SECRET|KUBE_CONFIG|KUBECONFIG_DATA",
)
SECRET_EXPRESSION = re.compile(r"\$\{\{[^}]*\bsecrets\.")
PRINTS = re.compile(r"\b(echo|printf|cat)\b|set -x")


def tool(name: str) -> str:
    found = shutil.which(name, path=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    if found is None:
        if IN_CI:
            pytest.fail(f"{name} is missing (pip install '.[test]' installs it)")
        pytest.skip(f"{name} is not installed (the test extra)")
    return found


def run_on_venv_path(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    # shellcheck must be on PATH for actionlint to check run: blocks.
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    return run_command(args, cwd, env)


def workflow_texts() -> dict[str, str]:
    texts = {p.name: p.read_text() for p in sorted(WORKFLOWS.glob("*.y*ml"))}
    assert texts, "no workflow in .github/workflows"
    return texts


def triggers(workflow: dict[Any, Any]) -> dict[str, Any]:
    on = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as True
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return dict.fromkeys(on)
    assert isinstance(on, dict)
    return on


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job.get("steps") or [])


def secret_env(step: dict[str, Any], job: dict[str, Any], workflow: dict[str, Any]) -> set[str]:
    merged = {**(workflow.get("env") or {}), **(job.get("env") or {}), **(step.get("env") or {})}
    return {name for name, value in merged.items() if SECRET_EXPRESSION.search(str(value))}


def read_only(permissions: Any) -> bool:
    if permissions in ({}, "read-all"):
        return True
    return isinstance(permissions, dict) and set(permissions.values()) <= {"read", "none"}


def violations(name: str, text: str) -> list[str]:
    """Every policy breach in one workflow file, as `file: rule (where)`."""
    found: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        if re.match(r"^\s*-?\s*uses:", line) and not line.strip().lstrip("- ").startswith(
            "uses: ./"
        ):
            if not SHA_PIN.match(line):
                found.append(f"{name}: action not pinned by SHA with a version comment ({number})")
    if LONG_LIVED_KEYS.search(text):
        found.append(f"{name}: long-lived cloud credential")
    workflow: dict[str, Any] = yaml.safe_load(text)
    on = triggers(workflow)
    if "permissions" not in workflow or not read_only(workflow["permissions"]):
        found.append(f"{name}: top-level permissions missing or not read-only")
    if "concurrency" not in workflow:
        found.append(f"{name}: no concurrency group")
    for job_id, job in (workflow.get("jobs") or {}).items():
        where = f"{name}: job {job_id}"
        if "permissions" not in job or job["permissions"] == "write-all":
            found.append(f"{where}: permissions not declared per job")
        if "timeout-minutes" not in job:
            found.append(f"{where}: no timeout-minutes")
        environment = job.get("environment")
        env_name = environment.get("name") if isinstance(environment, dict) else environment
        image_refs = [(job.get("container") or {}).get("image", "")] + [
            (s or {}).get("image", "") for s in (job.get("services") or {}).values()
        ]
        if any(ref and not DIGEST_PIN.search(ref) for ref in image_refs):
            found.append(f"{where}: container image not pinned by digest")
        runs = " ".join(str(s.get("run", "")) for s in steps(job))
        if (
            re.search(r"deploy\.sh\s+production|terraform\s+apply", runs)
            and env_name != "production"
        ):
            found.append(f"{where}: deploys production outside the production environment")
        if env_name in ("staging", "production"):
            group = job.get("concurrency") or workflow.get("concurrency") or {}
            if not isinstance(group, dict) or group.get("cancel-in-progress") is not False:
                found.append(f"{where}: a deploy without a non-cancelling concurrency group")
        for index, step in enumerate(steps(job)):
            at = f"{where} step {index}"
            uses = str(step.get("uses", ""))
            if uses.startswith("actions/checkout@"):
                if (step.get("with") or {}).get("persist-credentials") is not False:
                    found.append(f"{at}: checkout keeps credentials (persist-credentials)")
                ref = str((step.get("with") or {}).get("ref", ""))
                if "pull_request_target" in on and HEAD_REF.search(ref):
                    found.append(f"{at}: pull_request_target checks out the head")
            script = str(step.get("run", ""))
            if SECRET_EXPRESSION.search(script):
                found.append(f"{at}: a secret expanded inside run: (pass it through env:)")
            for variable in secret_env(step, job, workflow):
                for line in script.splitlines():
                    if PRINTS.search(line) and re.search(rf"\${{?{variable}\b", line):
                        found.append(f"{at}: prints secret {variable}")
    return found


def test_policy_holds() -> None:
    found = [v for name, text in workflow_texts().items() for v in violations(name, text)]
    assert not found, "\n".join(found)


def test_scripts_never_trace() -> None:
    for script in SCRIPTS.glob("*.sh"):
        assert not re.search(r"set -\w*x|bash -x", script.read_text()), script.name


def test_pipeline_runs_what_the_docs_say() -> None:
    """The checks are there, on the right events (removing one fails here)."""
    ci = workflow_texts()["ci.yml"]
    on = triggers(yaml.safe_load(ci))
    assert {"push", "pull_request"} <= set(on)
    for needle in (
        "make lint typecheck",
        "bash .ci/run",
        "pytest-args: tests/attack",
        "gitleaks git",
        "fetch-depth: 0",
        "detect-secrets scan --baseline",
        "pip-audit",
        "-r requirements/runtime.txt",
        "aquasecurity/trivy-action@",
        "anchore/sbom-action@",
        "docker/build-push-action@",
        "deploy.sh staging",
        "smoke.sh",
        "deploy.sh production",
    ):
        assert needle in ci, needle
    jobs = yaml.safe_load(ci)["jobs"]
    assert jobs["production"]["environment"]["name"] == "production"
    assert "staging" in jobs["production"]["needs"], "production deploys only after staging"
    terraform = yaml.safe_load(workflow_texts()["terraform.yml"])
    assert {"push", "pull_request"} <= set(triggers(terraform))
    assert "terraform plan" in str(terraform["jobs"]["plan"])
    assert terraform["jobs"]["plan"]["if"].startswith("github.event_name == 'pull_request'")
    assert terraform["jobs"]["apply"]["environment"] == "production"
    assert terraform["jobs"]["apply"]["permissions"]["id-token"] == "write"


CI = "ci.yml"
MUTATIONS = [
    # (what is removed or weakened, old text, new text, the rule that must fire)
    ("tag instead of SHA", "@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1", "@v7", "pinned"),
    ("version comment", "@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1",
     "@3d3c42e5aac5ba805825da76410c181273ba90b1", "pinned"),
    ("top-level permissions", "permissions: {}\n", "permissions: write-all\n", "top-level"),
    ("job permissions", "    permissions:\n      contents: read\n    steps:\n      - uses: act",
     "    steps:\n      - uses: act", "per job"),
    ("persist-credentials", "persist-credentials: false", "persist-credentials: true",
     "keeps credentials"),
    ("production environment", "      name: production\n", "      name: staging\n",
     "outside the production environment"),
    ("secret in run", "run: make lint typecheck",
     "run: make lint typecheck TOKEN=${{ secrets.GITHUB_TOKEN }}", "inside run"),
    ("secret echoed", "run: docker login ghcr.io",
     'run: echo "$REGISTRY_TOKEN"; docker login ghcr.io', "prints secret REGISTRY_TOKEN"),
    ("pull_request_target with head checkout", "  pull_request:\n",
     "  pull_request_target:\n", None),
    ("timeout", "    timeout-minutes: 20\n", "", "timeout"),
    ("concurrency", "concurrency:\n  group: ci-", "x-concurrency:\n  group: ci-", "concurrency"),
    ("deploy concurrency", "group: deploy-production\n      cancel-in-progress: false",
     "group: deploy-production\n      cancel-in-progress: true", "non-cancelling"),
    ("unpinned container", "python:3.11-slim-trixie@sha256:", "python:3.11-slim-trixie#", "digest"),
    ("long-lived key", "role-to-assume", "aws-access-key-id", "long-lived"),
]  # fmt: skip


@pytest.mark.parametrize(("label", "old", "new", "rule"), MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_policy_fails_when_a_property_is_removed(
    label: str, old: str, new: str, rule: str | None
) -> None:
    texts = workflow_texts()
    name = "terraform.yml" if label == "long-lived key" else CI
    text = texts[name]
    assert old in text, f"{label}: the mutation no longer applies"
    mutated = text.replace(old, new, 1)
    if rule is None:  # the head checkout: add it to the mutated trigger
        mutated = mutated.replace(
            "persist-credentials: false\n",
            "persist-credentials: false\n"
            "          ref: ${{ github.event.pull_request.head.sha }}\n",
            1,
        )
        rule = "pull_request_target checks out the head"
    assert not violations(name, text)
    assert any(rule in v for v in violations(name, mutated)), label


def test_actionlint_is_clean() -> None:
    tool("shellcheck")
    result = run_on_venv_path([tool("actionlint"), "-color=false"], cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_is_clean() -> None:
    result = run_on_venv_path(
        [tool("zizmor"), "--offline", "--no-progress", "--persona=auditor", str(WORKFLOWS.parent)],
        ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_shellcheck_scripts() -> None:
    scripts = sorted(str(p) for p in SCRIPTS.glob("*.sh"))
    result = run_on_venv_path([tool("shellcheck"), *scripts], cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_linters_can_fail(tmp_path: Path) -> None:
    """A planted flaw in a copy: actionlint reports an unknown key, an injectable expression and
    (through shellcheck) a shell bug; zizmor a credential-keeping checkout and the injection."""
    bad = tmp_path / ".github" / "workflows"
    bad.mkdir(parents=True)
    text = workflow_texts()[CI]
    text = text.replace("        with:\n          persist-credentials: false\n", "", 1)
    text = text.replace("    timeout-minutes: 20\n", "    timeout-minute: 20\n", 1)
    text = text.replace(
        "run: make lint typecheck",
        'run: echo "${{ github.event.pull_request.title }}"\n'
        "      - run: for f in $(ls *.txt); do make $f; done",
    )
    (bad / CI).write_text(text)
    lint = run_on_venv_path([tool("actionlint"), "-color=false", str(bad / CI)], cwd=tmp_path)
    assert lint.returncode == 1
    assert 'unexpected key "timeout-minute"' in lint.stdout
    assert "potentially untrusted" in lint.stdout
    assert "SC2045" in lint.stdout  # shellcheck ran inside actionlint
    audit = run_on_venv_path([tool("zizmor"), "--offline", "--no-progress", str(bad)], cwd=tmp_path)
    assert audit.returncode != 0
    assert "artipacked" in audit.stdout
    assert "template-injection" in audit.stdout
