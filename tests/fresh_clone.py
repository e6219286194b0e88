"""A fresh-clone-like copy of this checkout, for tests that run documented commands verbatim.

The copy holds the files git would check out plus untracked, non-ignored ones (the working tree
as a reviewer would clone it once committed), never ``.data/`` or ``.venv/``. Its ``.venv`` is a
real virtual environment that sees the running interpreter's packages through a ``.pth`` line,
with ``make``'s install stamps present, so ``make`` targets run without reinstalling anything
into the shared environment; the copy's own ``app`` wins because commands run from its root.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from tests.support import ROOT


def tracked_files(root: Path = ROOT) -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return [name for name in listed.split("\0") if name and (root / name).is_file()]


def clone_like_copy(target: Path, root: Path = ROOT) -> Path:
    for name in tracked_files(root):
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, destination)
    return target


def fake_venv(copy: Path) -> Path:
    """``copy/.venv``: this interpreter's packages, and the stamps ``make`` checks."""
    venv = copy / ".venv"
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--without-pip", str(venv)], check=True)
    purelib = Path(sysconfig.get_paths()["purelib"])
    (site,) = venv.glob("lib/python*/site-packages")
    (site / "shared_packages.pth").write_text(f"import site; site.addsitedir({str(purelib)!r})\n")
    cksum = subprocess.run(
        ["cksum", "pyproject.toml"], cwd=copy, capture_output=True, text=True, check=True
    ).stdout.split()[0]
    for stamp in (f".installed-{cksum}", f".installed-run-{cksum}"):
        (venv / stamp).touch()
    return venv


def plain_env(**extra: str) -> dict[str, str]:
    """A person's shell: PATH and HOME, none of the suite's settings (no ENVIRONMENT either)."""
    keep = ("PATH", "HOME", "LANG", "TMPDIR")
    return {**{k: os.environ[k] for k in keep if k in os.environ}, **extra}
