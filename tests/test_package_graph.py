"""The package graph and the worker's jobs, held mechanically (docs/architecture.md, ADR 0022).

import-linter checks the contracts in pyproject.toml's ``[tool.importlinter]``: layers (core <
identity < domains < entry points), the domains' declared dependencies, and no cycle between
app's packages. The job registry: every domain's ``JOBS`` in its ``jobs.py``, all run by the
worker under stable names.
"""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app"


def _layered_modules() -> set[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    layers = next(c for c in contracts if c["type"] == "layers")["layers"]
    return {name.strip() for layer in layers for name in re.split(r"[|:]", layer)}


def test_every_package_of_app_has_its_layer() -> None:
    """A new top-level package or module must be placed in the layers contract, or
    import-linter would never look at it."""
    top = {
        f"app.{path.stem if path.suffix else path.name}"
        for path in APP.iterdir()
        if (path.suffix == ".py" and path.stem != "__init__") or (path / "__init__.py").exists()
    }
    assert top - _layered_modules() == set(), "add it to [tool.importlinter] layers"


@pytest.mark.checklist(
    "C2",
    red="import a domain from app/identity or app/core, or add an undeclared cross-domain import",
)
def test_import_contracts_hold() -> None:
    """core < identity < domains < entry points; domains depend only as declared; no cycle."""
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--no-cache"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


def test_every_domain_declares_its_jobs_in_jobs_py_and_the_worker_runs_them() -> None:
    from app.worker import JOBS

    declared = []
    for path in sorted(APP.glob("*/jobs.py")):
        if path.parent.name == "core":  # the registry itself
            continue
        module = importlib.import_module(f"app.{path.parent.name}.jobs")
        declared += [job.name for job in module.JOBS]
    assert sorted(declared) == sorted(JOBS), "a domain's JOBS is missing from app/worker.py"
    # The names are an interface: `python -m app worker --jobs a,b`, tests/faults, deployments.
    assert list(JOBS) == [
        "purge_expired_credentials",
        "deliver_email",
        "scan_files",
        "deliver_webhooks",
        "process_inbound_webhooks",
        "end_orphaned_turns",
    ]
