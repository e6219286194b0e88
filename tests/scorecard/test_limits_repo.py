"""The source side (``--repo``): the project's own tree passes; a planted tree (a key committed
then deleted, a key in a module, a git-ignored ``.env`` the image would copy, a root container,
a broken workflow, no monitoring) fails each check with the file and the rule, never the key."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.scorecard.context import Options
from tests.edge.production import production_env
from tests.infra.planted import fake_github_token, git
from tests.scorecard.limits_support import Run, run_checks
from tests.support import ROOT, Database

DEPLOYMENT = ("app.scorecard.deployment",)
CHECKOV_VENVS = (ROOT / ".venv-checkov" / "bin", Path("/work/main/.venv-checkov/bin"))


@pytest.fixture(autouse=True)
def checkov_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Makefile's checkov venv, when this checkout or the main one has it."""
    extra = [str(p) for p in CHECKOV_VENVS if (p / "checkov").exists()]
    monkeypatch.setenv("PATH", os.pathsep.join([*extra, os.environ.get("PATH", "")]))


def run_on(repo: Path, *only: str, **extra: object) -> Run:
    options = Options(base_url="https://unused.invalid", repo=repo, **extra)  # type: ignore[arg-type]
    return run_checks(options, DEPLOYMENT, only=only)


def plant(repo: Path, token: str) -> None:
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "settings.py").write_text(f'GITHUB_TOKEN = "{token}"\n')
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "add settings")
    (repo / "settings.py").unlink()
    (repo / "leakpkg").mkdir()
    (repo / "leakpkg" / "__init__.py").write_text(f'TOKEN = "{token}"\n')
    (repo / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "leakpkg"\nversion = "0.1"\n'
        '[tool.setuptools]\npackages = ["leakpkg"]\n'
    )
    (repo / ".gitignore").write_text(".env\n")
    (repo / ".env").write_text(f"DEPLOY_TOKEN={token}\n")  # ignored by git, not by docker
    (repo / "Dockerfile").write_text(
        "FROM python:3.12-slim\nRUN apt-get update && apt-get install -y curl\n"
        'COPY . /app\nCMD ["python", "-m", "leakpkg"]\n'
    )
    workflows = repo / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "ci.yml").write_text(
        "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    timeout-minute: 5\n"
        "    steps:\n      - run: echo ok\n"
    )
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "remove settings, add the package")


@pytest.mark.checklist("C4", "C14", red="a scan that misses a planted key, or a root image")
def test_a_planted_tree_fails_every_source_check(tmp_path: Path) -> None:
    token = fake_github_token()
    plant(tmp_path / "repo", token)
    run = run_on(tmp_path / "repo")
    for check_id in (
        "deployment.secrets_tree",
        "deployment.secrets_history",
        "deployment.secrets_wheel",
        "deployment.secrets_image",
        "deployment.container_user",
        "deployment.hadolint",
        "deployment.actionlint",
        "monitoring.uptime_and_alerts",
    ):
        assert run.status(check_id) == "FAIL", (check_id, run.evidence(check_id))
    assert "settings.py:1" in run.evidence("deployment.secrets_history")  # deleted, still found
    assert "leakpkg/__init__.py:1" in run.evidence("deployment.secrets_wheel")
    assert ".env:1" in run.evidence("deployment.secrets_image")  # git-ignored, docker-copied
    assert ".env" not in run.evidence("deployment.secrets_tree")
    assert "USER <none: root>" in run.evidence("deployment.container_user")
    assert "DL3008" in run.evidence("deployment.hadolint")
    assert "timeout-minute" in run.evidence("deployment.actionlint")
    assert "missing: login, chat send" in run.evidence("monitoring.uptime_and_alerts")
    assert all(token not in run.evidence(check_id) for check_id in run.verdicts)
    if run.status("deployment.checkov") != "NOT CHECKED":
        assert run.status("deployment.checkov") == "FAIL"
        assert "CKV_DOCKER_3" in run.evidence("deployment.checkov")
    assert run.status("deployment.dependency_audit") == "NOT CHECKED"  # no lock


@pytest.mark.checklist("C11", "C14", red="a check that cannot pass the project's own tree")
def test_the_project_tree_passes(db: Database, tmp_path: Path) -> None:
    env, overrides = production_env(db, "tcp://127.0.0.1:3310")
    settings = {**env, **overrides}
    dkim = tmp_path / "dkim.pem"  # an env file holds one line per setting: the PEM goes to a file
    dkim.write_text(settings.pop("DKIM_PRIVATE_KEY"))
    settings["DKIM_PRIVATE_KEY_FILE"] = str(dkim)
    env_file = tmp_path / "production.env"
    env_file.write_text("".join(f"{k}='{v}'\n" for k, v in settings.items() if "\n" not in v))
    run = run_on(ROOT, env_file=env_file)
    for check_id in (
        "deployment.secrets_tree",
        "deployment.secrets_history",
        "deployment.secrets_wheel",
        "deployment.secrets_image",
        "deployment.container_user",
        "deployment.hadolint",
        "deployment.actionlint",
        "deployment.check_config",
        "monitoring.uptime_and_alerts",
    ):
        assert run.status(check_id) == "PASS", (check_id, run.evidence(check_id))
    assert run.status("deployment.checkov") in ("PASS", "NOT CHECKED")
    # pip-audit reaches the network: never without --audit (and tests never pass it).
    assert run.status("deployment.dependency_audit") == "NOT CHECKED"


@pytest.mark.checklist("C14", red="check-config refusals reported as a pass, or with the secret")
def test_a_weak_production_config_fails_without_printing_its_values(tmp_path: Path) -> None:
    weak_key = "changeme-" + "x" * 8
    env_file = tmp_path / "weak.env"
    env_file.write_text(f"ENVIRONMENT=production\nSECRET_KEY={weak_key}\nDEBUG=true\n")
    run = run_on(ROOT, "deployment.check_config", env_file=env_file)
    assert run.status("deployment.check_config") == "FAIL"
    assert "exit 1" in run.evidence("deployment.check_config")
    assert weak_key not in run.evidence("deployment.check_config")
