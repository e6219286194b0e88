"""The source side's tools: which scanners are installed, the file sets they read, their findings.

Secret scanning prefers gitleaks (the test extra ships it) with the repository's
``.gitleaks.toml``; without it, detect-secrets (a runtime dependency) with the repository's
``.secrets.baseline``: a finding whose hash is audited there as ``is_secret: false`` is a known
fake. Every report is redacted: a finding is a rule, a file and a line, never the value.

The image context is what ``docker build`` would send: every file not excluded by
``.dockerignore``. Docker's matcher (Go ``filepath.Match`` plus ``**`` and ``!`` exceptions, the
last matching line wins, a pattern also matches everything under a matched directory) is
re-implemented in a few lines here; ``pathspec`` implements gitignore, whose rules differ.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TIMEOUT = 300
MAX_IMAGE_FILES = 20_000


@dataclass(frozen=True)
class Secret:
    rule: str
    where: str  # "path:line" or "commit path:line"


def tool(name: str, repo: Path | None = None) -> str | None:
    """``name`` on PATH or beside this interpreter (a venv's bin), else None."""
    places = [str(Path(sys.executable).parent), os.environ.get("PATH", "")]
    if name == "checkov" and repo is not None:  # the Makefile's own venv (make checkov-venv)
        places.insert(0, str(repo / ".venv-checkov" / "bin"))
    return shutil.which(name, path=os.pathsep.join(places))


def run(
    args: list[str], cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    # The arguments are this module's own: tool paths from shutil.which, the operator's paths.
    return subprocess.run(  # noqa: S603
        args, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT, check=False, env=env
    )


def committable_files(repo: Path) -> list[str]:
    """What git would commit (tracked plus untracked-not-ignored); every file without git."""
    listed = run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], repo)
    if listed.returncode == 0:
        return [n for n in listed.stdout.split("\0") if n and (repo / n).is_file()]
    return [
        str(p.relative_to(repo)) for p in repo.rglob("*") if p.is_file() and ".git" not in p.parts
    ]


def copy_files(repo: Path, names: list[str], dest: Path) -> Path:
    for name in names:
        source = repo / name
        if source.is_file() and not source.is_symlink():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    return dest


def _dockerignore_regex(pattern: str) -> re.Pattern[str]:
    out = ""
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if pattern.startswith("**/", index):
            out, index = out + "(?:.*/)?", index + 3
            continue
        if pattern.startswith("**", index):
            out, index = out + ".*", index + 2
            continue
        out += {"*": "[^/]*", "?": "[^/]"}.get(char, re.escape(char))
        index += 1
    return re.compile(out)


def image_context(repo: Path) -> list[str] | None:
    """Files ``docker build`` would send (None: no Dockerfile). Walks the tree once, pruning
    excluded directories no ``!`` line can re-include."""
    if not (repo / "Dockerfile").is_file():
        return None
    rules: list[tuple[bool, re.Pattern[str], str]] = []
    ignore = repo / ".dockerignore"
    lines = ignore.read_text(encoding="utf-8").splitlines() if ignore.is_file() else []
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        cleaned = os.path.normpath(line.lstrip("!").strip().lstrip("/")).replace(os.sep, "/")
        rules.append((negate, _dockerignore_regex(cleaned), cleaned))

    def excluded(path: str) -> bool:
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        verdict = False
        for negate, regex, _ in rules:
            if any(regex.fullmatch(prefix) for prefix in prefixes):
                verdict = not negate
        return verdict

    def may_reinclude(directory: str) -> bool:
        return any(
            negate
            and (text.startswith(directory + "/") or text == directory or "*" in text.split("/")[0])
            for negate, _, text in rules
        )

    found: list[str] = []
    for root, dirs, files in os.walk(repo):
        rel_root = os.path.relpath(root, repo).replace(os.sep, "/")
        rel_root = "" if rel_root == "." else rel_root + "/"
        dirs[:] = [
            d for d in dirs if not (excluded(rel_root + d) and not may_reinclude(rel_root + d))
        ]
        found.extend(rel_root + f for f in files if not excluded(rel_root + f))
        if len(found) > MAX_IMAGE_FILES:
            break
    return found


def build_wheel(repo: Path, work: Path) -> Path | None:
    """``pip wheel --no-deps --no-build-isolation --no-index`` of a copy (offline), unpacked."""
    if not (repo / "pyproject.toml").is_file() and not (repo / "setup.py").is_file():
        return None
    source = copy_files(repo, committable_files(repo), work / "src")
    dist = work / "dist"
    dist.mkdir()
    built = run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
         "--disable-pip-version-check", "-q", "-w", str(dist), str(source)],
        dist,
    )  # fmt: skip
    wheels = list(dist.glob("*.whl"))
    if built.returncode != 0 or len(wheels) != 1:
        return None
    unpacked = work / "wheel"
    with zipfile.ZipFile(wheels[0]) as archive:
        archive.extractall(unpacked)
    return unpacked


def gitleaks(repo: Path, mode: str, target: Path, *extra: str) -> list[Secret]:
    """``gitleaks dir|git`` with the repository's config; redacted findings."""
    binary = tool("gitleaks")
    assert binary is not None
    config = repo / ".gitleaks.toml"
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        args = [binary, mode, str(target), "--no-banner", "--redact", "--exit-code", "0",
                "--report-format", "json", "--report-path", str(report), *extra]  # fmt: skip
        if config.is_file():
            args += ["--config", str(config)]
        result = run(args, target if target.is_dir() else repo)
        if result.returncode != 0 or not report.is_file():
            raise RuntimeError(f"gitleaks {mode} failed ({result.returncode})")
        findings: list[dict[str, Any]] = json.loads(report.read_text() or "[]")
    return [
        Secret(f["RuleID"], f"{f.get('Commit', '')[:12]} {f['File']}:{f['StartLine']}".strip())
        for f in findings
    ]


def _audited(repo: Path) -> set[str]:
    baseline = repo / ".secrets.baseline"
    if not baseline.is_file():
        return set()
    results = json.loads(baseline.read_text()).get("results", {})
    return {
        r["hashed_secret"]
        for entries in results.values()
        for r in entries
        if r.get("is_secret") is False
    }


def detect_secrets(repo: Path, target: Path) -> list[Secret]:
    """detect-secrets over every file of ``target``; fakes audited in the baseline are skipped."""
    binary = tool("detect-secrets")
    assert binary is not None
    result = run([binary, "scan", "--all-files", "."], target)
    if result.returncode != 0:
        raise RuntimeError(f"detect-secrets failed ({result.returncode})")
    known = _audited(repo)
    return [
        Secret(r["type"], f"{name}:{r['line_number']}")
        for name, entries in json.loads(result.stdout)["results"].items()
        for r in entries
        if r["hashed_secret"] not in known
    ]


def scan_dir(repo: Path, target: Path) -> tuple[str, list[Secret]]:
    """(scanner used, findings) for a directory."""
    if tool("gitleaks"):
        return "gitleaks", gitleaks(repo, "dir", target)
    return "detect-secrets", detect_secrets(repo, target)
