"""The README's first-day commands run verbatim on a fresh copy of the repository.

The copy gets what ``make run`` leaves behind (a virtual environment, ``.data/dev.env`` naming a
database), here a throw-away database the suite creates. Each command of the README block runs in
a plain shell with no ``DATABASE_URL``, ``ENVIRONMENT`` or ``SECRET_KEY`` exported: the CLI and
Alembic must find the development settings by themselves. The new migration ``make migration``
writes (CONTRIBUTING.md's command) must follow the naming of ``migrations/versions`` and pass ruff
as ``make lint`` runs it.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.devtools.dev_env import load_dev_env, write_env_file
from tests.factories.users import strong_password
from tests.fresh_clone import clone_like_copy, fake_venv, plain_env
from tests.support import ROOT, Database, create_database, drop_database

MARKER = "<!-- tests/test_readme_commands.py runs the next block verbatim"
DATED_NAME = re.compile(r"^\d{4}-\d{2}-\d{2}-\d{4}_create_bot_tags\.py$")


def readme_block(readme: str) -> list[str]:
    """The command lines of the fenced block after the marker."""
    after = readme.split(MARKER, 1)[1]
    match = re.search(r"```bash\n(.*?)```", after, re.DOTALL)
    assert match is not None, "the README's first-day block is gone"
    return [line for line in match.group(1).splitlines() if line.strip()]


@pytest.fixture(scope="module")
def throwaway() -> Iterator[Database]:
    database = create_database()  # roles and an empty database: make migrate builds the schema
    yield database
    drop_database(database)


@pytest.fixture(scope="module")
def copy(throwaway: Database, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = clone_like_copy(tmp_path_factory.mktemp("clone") / "launchproof")
    fake_venv(target)
    (target / ".data").mkdir()
    # What `make run` (python -m app dev-db) writes, pointing at the throw-away database.
    write_env_file(
        target / ".data" / "dev.env",
        {
            "SECRET_KEY": strong_password() * 2,
            "DATABASE_URL": throwaway.app,
            "DATABASE_MIGRATION_URL": throwaway.migration,
        },
    )
    return target


def run_line(copy: Path, line: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", line],
        cwd=copy,
        env=plain_env(),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_readme_first_day_commands_work_verbatim(copy: Path, throwaway: Database) -> None:
    lines = readme_block((copy / "README.md").read_text(encoding="utf-8"))
    assert any("create-user" in line for line in lines)
    for line in lines:
        result = run_line(copy, line, stdin=strong_password() + "\n")
        assert result.returncode == 0, f"{line}\n{result.stdout[-2000:]}{result.stderr[-3000:]}"
    emails = {row[0] for row in throwaway.rows("SELECT email FROM user_account")}
    assert {"you@example.com", "teammate@example.com"} <= emails
    assert (
        throwaway.scalar("SELECT count(*) FROM user_account WHERE email_verified_at IS NULL") == 0
    )


def contributing_migration_command(text: str) -> str:
    """CONTRIBUTING's recipe step 2 command, its ``<things>`` placeholder filled in."""
    match = re.search(r'`(make migration NAME="create <things>")`', text)
    assert match is not None, "CONTRIBUTING.md no longer shows `make migration NAME=...`"
    return match.group(1).replace("<things>", "bot tags")


def test_generated_migration_is_named_numbered_and_lint_clean(copy: Path) -> None:
    """CONTRIBUTING's command, on the database the README block migrated: exactly one new file."""
    command = contributing_migration_command((copy / "CONTRIBUTING.md").read_text("utf-8"))
    made = run_line(copy, command)
    assert made.returncode == 0, made.stdout + made.stderr
    versions = copy / "migrations" / "versions"
    existing = {path.name for path in (ROOT / "migrations" / "versions").glob("*.py")}
    new = sorted({path.name for path in versions.glob("*.py")} - existing)
    assert len(new) == 1, new
    assert DATED_NAME.match(new[0]), new
    numbers = [int(name) for name in re.findall(r'^revision: str = "(\d{4})_', _all(ROOT), re.M)]
    text = (versions / new[0]).read_text(encoding="utf-8")
    expected = f"{max(numbers) + 1:04d}_create_bot_tags"
    assert re.search(f"^revision: str = [\"']{expected}[\"']$", text, re.M), text
    for command in ("ruff check", "ruff format --check"):
        lint = run_line(copy, f".venv/bin/python -m {command} migrations/versions")
        assert lint.returncode == 0, lint.stdout + lint.stderr


def _all(root: Path) -> str:
    return "".join(
        p.read_text(encoding="utf-8") for p in (root / "migrations/versions").glob("*.py")
    )


def unset(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    """Unset, and restored (to unset) afterwards even when load_dev_env sets them."""
    for name in names:
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)


@pytest.mark.parametrize("environment", ["test", "production"])
def test_outside_development_no_settings_file_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, environment: str
) -> None:
    write_env_file(tmp_path / ".env", {"LP_PROBE": "from-file"})
    unset(monkeypatch, "LP_PROBE")
    monkeypatch.setenv("ENVIRONMENT", environment)
    assert load_dev_env(tmp_path) == []
    assert "LP_PROBE" not in os.environ
    monkeypatch.delenv("ENVIRONMENT")
    write_env_file(tmp_path / ".env", {"ENVIRONMENT": environment, "LP_PROBE": "from-file"})
    assert load_dev_env(tmp_path) == []  # a file saying production is not development either
    assert "LP_PROBE" not in os.environ


def test_real_variables_win_then_dev_env_then_dot_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".data").mkdir()
    write_env_file(tmp_path / ".data" / "dev.env", {"LP_A": "dev.env", "LP_B": "dev.env"})
    write_env_file(tmp_path / ".env", {"LP_A": ".env", "LP_B": ".env", "LP_C": ".env"})
    unset(monkeypatch, "ENVIRONMENT", "LP_B", "LP_C")
    monkeypatch.setenv("LP_A", "real")
    assert len(load_dev_env(tmp_path)) == 2
    assert (os.environ["LP_A"], os.environ["LP_B"], os.environ["LP_C"]) == (
        "real",
        "dev.env",
        ".env",
    )
