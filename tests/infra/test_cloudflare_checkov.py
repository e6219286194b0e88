"""checkov on infra/cloudflare/, with the repository's own Cloudflare policies
(infra/cloudflare/checkov/: checkov ships none for this provider).

checkov lives in its own venv (`make checkov-venv`: its pins conflict with python-hcl2's). Under
CI=true a missing checkov fails; elsewhere it skips with the command to run. Offline on purpose:
``--skip-download`` (no guideline or policy download; the machine may have no network).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.infra.cloudflare_tf import CLOUDFLARE_DIR, ROOT

pytestmark = pytest.mark.checklist(
    "C11",
    red="publish the API's DNS record unproxied, or drop the repository's Cloudflare checkov "
    "policies",
)

CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"


def _checkov(directory: Path) -> dict[str, Any]:
    if not CHECKOV.exists():
        message = f"{CHECKOV} is missing: run `make checkov-venv`"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    result = subprocess.run(
        [
            str(CHECKOV),
            "--directory",
            str(directory),
            "--framework",
            "terraform",
            "--external-checks-dir",
            str(directory / "checkov"),
            "--skip-download",
            "--compact",
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},
    )
    assert result.returncode in {0, 1}, result.stderr[-2000:]
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def _failed(report: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (check["check_id"], check["resource"])
        for check in report.get("results", {}).get("failed_checks", [])
    ]


def test_checkov_is_clean_and_runs_the_cloudflare_policies() -> None:
    report = _checkov(CLOUDFLARE_DIR)
    assert _failed(report) == []
    summary = report.get("summary", report)
    assert summary["parsing_errors"] == 0
    assert summary["resource_count"] >= 15
    passed = {check["check_id"] for check in report["results"]["passed_checks"]}
    assert {"CKV2_LP_1", "CKV2_LP_2", "CKV2_LP_3"} <= passed


def test_checkov_catches_an_unproxied_record(tmp_path: Path) -> None:
    """The policies can fail: the API record published unproxied (the origin exposed)."""
    copy = tmp_path / "cloudflare"
    shutil.copytree(CLOUDFLARE_DIR, copy)
    tunnel = copy / "tunnel.tf"
    text = tunnel.read_text()
    assert text.count("proxied = true") == 1
    tunnel.write_text(text.replace("proxied = true", "proxied = false"))
    settings = copy / "zone_settings.tf"
    settings.write_text(settings.read_text().replace('value      = "1.2"', 'value      = "1.0"'))
    failed = {check_id for check_id, _ in _failed(_checkov(copy))}
    assert failed == {"CKV2_LP_1", "CKV2_LP_2"}
