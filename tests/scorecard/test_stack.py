"""The stack itself: served over TLS for its name, redirected on plain http, checkable."""

from __future__ import annotations

import pytest

from tests.scorecard.stack import Stack, run_check


@pytest.mark.checklist("C11", red="serve ignores --ssl-certfile (the stack answers plain http)")
def test_stack_serves_tls_for_its_name_and_the_check_runs(scorecard_stack: Stack) -> None:
    probe = scorecard_stack.probe()
    try:
        response = probe.request("GET", scorecard_stack.base_url + "/healthz")
    finally:
        probe.close()
    assert response.status_code == 200
    assert response.headers["strict-transport-security"].startswith("max-age=")
    result, report = run_check(scorecard_stack)
    assert result.returncode in (0, 1), result.stderr[-2000:]
    assert report["budget"]["requests_used"] <= report["budget"]["max_requests"]
