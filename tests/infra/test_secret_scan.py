"""A committed key fails the build: gitleaks and detect-secrets over the working tree, the git
history and the built wheel, with the project's own configuration (``.gitleaks.toml``,
``.secrets.baseline``). A token planted at run time in a throwaway repository proves each scan can
fail. Under CI a missing scanner fails the run instead of skipping.

History: every commit reachable from HEAD. A shallow clone holds only part of it, and the scan
covers exactly the commits present (the GitHub workflow checks out with ``fetch-depth: 0``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.commands import run_command
from tests.infra.planted import fake_github_token, git
from tests.support import IN_CI, ROOT

pytestmark = pytest.mark.checklist(
    "C4",
    "C14",
    red="commit a credential to the tree, the history or the wheel, or weaken .gitleaks.toml or "
    ".secrets.baseline so a planted token goes unreported",
)

GITLEAKS_CONFIG = ROOT / ".gitleaks.toml"
BASELINE = ROOT / ".secrets.baseline"
VENV_BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    found = shutil.which(name, path=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    if found is None:
        if IN_CI:
            pytest.fail(f"{name} is missing (pip install '.[test]' installs it)")
        pytest.skip(f"{name} is not installed (the test extra)")
    return found


def gitleaks(mode: str, target: Path, report: Path, *extra: str) -> list[dict[str, Any]]:
    """Findings (secrets redacted) of ``gitleaks dir|git`` with the project's configuration."""
    result = run_command(
        [
            tool("gitleaks"), mode, str(target), "--config", str(GITLEAKS_CONFIG),
            "--no-banner", "--redact", "--report-format", "json", "--report-path", str(report),
            *extra,
        ],
        cwd=target,
    )  # fmt: skip
    assert result.returncode in (0, 1), result.stderr
    findings: list[dict[str, Any]] = json.loads(report.read_text())
    assert (result.returncode == 1) == bool(findings), result.stderr
    return findings


def summary(findings: list[dict[str, Any]]) -> list[str]:
    return [
        f"{f['RuleID']} {f['File']}:{f['StartLine']} {f.get('Commit', '')[:12]}" for f in findings
    ]


def scanned_commits(repo: Path) -> int:
    result = run_command(
        [tool("gitleaks"), "git", str(repo), "--config", str(GITLEAKS_CONFIG), "--no-banner",
         "--redact", "--log-opts=--full-history HEAD", "--exit-code", "0"],
        cwd=repo,
    )  # fmt: skip
    match = re.search(r"(\d+) commits scanned", result.stderr + result.stdout)
    assert match, result.stderr
    return int(match.group(1))


def unaudited(baseline: dict[str, Any]) -> list[str]:
    """detect-secrets results nobody has audited as fake (``is_secret: false``)."""
    return [
        f"{name}:{r['line_number']} {r['type']}"
        for name, results in baseline["results"].items()
        for r in results
        if r.get("is_secret") is not False
    ]


def detect_secrets_against_baseline(tree: Path, tmp: Path) -> dict[str, Any]:
    """``detect-secrets scan --baseline`` on a copy of the committed baseline: audited entries
    keep their labels, anything new arrives unlabelled."""
    work = tmp / "baseline.json"
    shutil.copyfile(BASELINE, work)
    # --all-files: the copy of the tree is not a git repository (git ls-files would list nothing).
    result = run_command(
        [tool("detect-secrets"), "scan", "--all-files", "--baseline", str(work)], cwd=tree
    )
    assert result.returncode == 0, result.stderr
    loaded: dict[str, Any] = json.loads(work.read_text())
    return loaded


def audited_hashes() -> set[str]:
    baseline = json.loads(BASELINE.read_text())
    return {
        r["hashed_secret"]
        for results in baseline["results"].values()
        for r in results
        if r.get("is_secret") is False
    }


def detect_secrets_unknown(tree: Path) -> list[str]:
    """Findings in a directory (the unpacked wheel) whose value was never audited as fake."""
    result = run_command([tool("detect-secrets"), "scan", "--all-files", "."], cwd=tree)
    assert result.returncode == 0, result.stderr
    known = audited_hashes()
    return [
        f"{name}:{r['line_number']} {r['type']}"
        for name, results in json.loads(result.stdout)["results"].items()
        for r in results
        if r["hashed_secret"] not in known
    ]


def copy_working_tree(dest: Path) -> Path:
    """The files git would commit: tracked plus untracked-but-not-ignored (so ``.venv``,
    ``.data`` and build output stay out, and a new file nobody has added yet is still scanned)."""
    listed = run_command(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT
    )
    assert listed.returncode == 0, listed.stderr
    for name in filter(None, listed.stdout.split("\0")):
        source = ROOT / name
        if source.is_file() and not source.is_symlink():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    return dest


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_working_tree(tmp_path_factory.mktemp("tree"))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel ``pip wheel --no-deps .`` builds, unpacked. Built from a copy (an in-tree build
    writes build/ and *.egg-info) without build isolation, so nothing is downloaded."""
    source = copy_working_tree(tmp_path_factory.mktemp("wheel-src"))
    dist = tmp_path_factory.mktemp("dist")
    built = run_command(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
         "--disable-pip-version-check", "-q", "-w", str(dist), str(source)],
        cwd=dist,
    )  # fmt: skip
    assert built.returncode == 0, built.stdout + built.stderr
    (archive,) = dist.glob("*.whl")
    unpacked = tmp_path_factory.mktemp("wheel")
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(unpacked)
    assert (unpacked / "app" / "main.py").is_file()
    return unpacked


def test_working_tree_has_no_secret(tree: Path, tmp_path: Path) -> None:
    findings = gitleaks("dir", tree, tmp_path / "report.json")
    assert not findings, summary(findings)


def test_history_has_no_secret(tmp_path: Path) -> None:
    findings = gitleaks("git", ROOT, tmp_path / "report.json", "--log-opts=--full-history HEAD")
    assert not findings, summary(findings)


def test_history_scan_reads_every_commit_present() -> None:
    """gitleaks reads every commit reachable from HEAD that adds a line of text (merges, empty
    commits, deletions only and binary files only, such as screenshots, add none to scan)."""
    listed = run_command(
        ["git", "log", "--no-merges", "--format=@%H", "--numstat", "HEAD"], cwd=ROOT
    )
    assert listed.returncode == 0, listed.stderr

    def adds_text(commit: str) -> bool:
        stats = [line.split("\t") for line in commit.strip().splitlines()[1:] if line.strip()]
        return any(added not in ("-", "0") for added, *_ in stats)

    with_lines = [commit for commit in listed.stdout.split("@")[1:] if adds_text(commit)]
    assert scanned_commits(ROOT) == len(with_lines)


def test_detect_secrets_findings_are_all_audited(tree: Path, tmp_path: Path) -> None:
    """Each finding is in ``.secrets.baseline`` and audited as a fake fixture or a label; a new
    one fails until someone audits it (docs/deploy.md, "The pipeline")."""
    assert not unaudited(json.loads(BASELINE.read_text())), "unaudited entries in the baseline"
    rescanned = detect_secrets_against_baseline(tree, tmp_path)
    assert rescanned["results"], "the scan read nothing"
    assert not unaudited(rescanned)


def test_wheel_has_no_secret(wheel: Path, tmp_path: Path) -> None:
    findings = gitleaks("dir", wheel, tmp_path / "report.json")
    assert not findings, summary(findings)
    assert not detect_secrets_unknown(wheel)


def test_planted_token_is_found_everywhere(tmp_path: Path, wheel: Path) -> None:
    """The same scans, on a throwaway repository that committed a token and then deleted it, and
    on a copy of the wheel with a token added: each one reports it."""
    token = fake_github_token()
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "settings.py").write_text(f'GITHUB_TOKEN = "{token}"\n')
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "add settings")
    (repo / "settings.py").unlink()
    (repo / "README").write_text("nothing here\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "remove settings")

    history = gitleaks("git", repo, tmp_path / "history.json", "--log-opts=--full-history HEAD")
    assert [(f["RuleID"], f["File"]) for f in history] == [("github-pat", "settings.py")]
    assert token not in json.dumps(history), "the report must be redacted"
    assert not gitleaks("dir", repo, tmp_path / "clean.json"), "the tree no longer holds it"

    (repo / "deploy.env").write_text(f"TOKEN={token}\n")
    tree_findings = gitleaks("dir", repo, tmp_path / "tree.json")
    assert [(f["RuleID"], Path(f["File"]).name) for f in tree_findings] == [
        ("github-pat", "deploy.env")
    ]
    git(repo, "add", "deploy.env")
    assert "deploy.env:1 GitHub Token" in unaudited(detect_secrets_against_baseline(repo, tmp_path))

    planted_wheel = tmp_path / "wheel"
    shutil.copytree(wheel, planted_wheel)
    (planted_wheel / "app" / "planted.py").write_text(f'TOKEN = "{token}"\n')
    assert gitleaks("dir", planted_wheel, tmp_path / "wheel.json")
    assert "app/planted.py:1 GitHub Token" in detect_secrets_unknown(planted_wheel)
