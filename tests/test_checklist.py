"""The checklist as code: every row C1..C14 has tests, the marker is enforced, the doc is current.

One ``pytest --collect-only`` subprocess per run (module fixture) feeds the coverage and drift
tests; the refusal tests collect small throwaway files with the plugin loaded by ``-p``.
"""

from __future__ import annotations

import difflib
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.checklist_doc import DOC, REGENERATE, collect, evidence, render
from tests.checklist_rows import ROW_IDS

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def collected() -> dict[str, Any]:
    return collect()


def test_every_row_has_at_least_one_test(collected: dict[str, Any]) -> None:
    found = evidence(collected)
    missing = [row for row in ROW_IDS if not found.get(row)]
    assert not missing, f"no test carries @pytest.mark.checklist for {missing}"


def test_docs_checklist_matches_the_markers(collected: dict[str, Any]) -> None:
    on_disk = DOC.read_text(encoding="utf-8").splitlines() if DOC.exists() else []
    diff = list(difflib.unified_diff(on_disk, render(collected).splitlines(), lineterm="", n=1))
    assert not diff, f"docs/{DOC.name} is out of date: run `{REGENERATE}`\n" + "\n".join(diff[:30])


def collect_file(tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    """Collect one throwaway test file under the project's pytest config and the plugin."""
    (tmp_path / "test_throwaway.py").write_text(textwrap.dedent(source), encoding="utf-8")
    command = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
    return subprocess.run(
        [
            *command,
            "-p",
            "tests.checklist_plugin",
            "-c",
            str(ROOT / "pyproject.toml"),
            "--rootdir",
            str(tmp_path),
            f"--checklist-json={tmp_path / 'out.json'}",
            str(tmp_path / "test_throwaway.py"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_unknown_rows_and_missing_red_are_refused_at_collection(tmp_path: Path) -> None:
    result = collect_file(
        tmp_path,
        """
        import pytest

        @pytest.mark.checklist("C15", red="remove the thing")
        def test_unknown_row(): pass

        @pytest.mark.checklist("C2")
        def test_missing_red(): pass

        @pytest.mark.checklist("C2", red="   ")
        def test_blank_red(): pass

        @pytest.mark.checklist(red="remove the thing")
        def test_no_row(): pass

        @pytest.mark.checklist("C2", red="two\\nlines")
        def test_two_line_red(): pass

        class TestLowercase:
            pytestmark = pytest.mark.checklist("c2", red="remove the thing")

            def test_it(self): pass
        """,
    )
    output = result.stdout + result.stderr
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, output
    expected = {
        "test_unknown_row": "unknown row(s) 'C15'",
        "test_missing_red": 'has no red="..."',
        "test_blank_red": 'has no red="..."',
        "test_no_row": "names no row",
        "test_two_line_red": "red must be one line",
        "TestLowercase": "unknown row(s) 'c2'",
    }
    for owner, why in expected.items():
        assert f"test_throwaway.py::{owner}: checklist mark {why}" in output, output


def test_a_well_formed_mark_is_collected_with_its_rows_and_red(tmp_path: Path) -> None:
    result = collect_file(
        tmp_path,
        """
        import pytest

        pytestmark = pytest.mark.checklist("C1", "C9", red="log the password")

        @pytest.mark.checklist("C2", red="drop the workspace filter")
        def test_marked(): pass

        def test_module_mark_only(): pass
        """,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    dump = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    marks = {item["nodeid"]: item["marks"] for item in dump["marked"]}
    module_mark = {"owner": "test_throwaway.py", "rows": ["C1", "C9"], "red": "log the password"}
    assert marks == {
        "test_throwaway.py::test_marked": [
            module_mark,
            {
                "owner": "test_throwaway.py::test_marked",
                "rows": ["C2"],
                "red": "drop the workspace filter",
            },
        ],
        "test_throwaway.py::test_module_mark_only": [module_mark],
    }
