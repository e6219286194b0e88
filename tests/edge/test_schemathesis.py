"""schemathesis against the running server's whole OpenAPI schema, signed in: the contract is the
truth (C7; the required run: every check, 25 examples per operation, seed 1, 240 s).

A dedicated server runs with ``ENVIRONMENT=test`` and ``DOCS_ENABLED=true``: the schema is served
only by this throw-away process on loopback, with its own database and the model stub. That is
safe because production refuses to start with DOCS_ENABLED (``production_problems``) and
``tests/edge/test_openapi_docs.py`` shows a production server answers 404 for the schema.

Every check schemathesis has runs (server errors, undocumented status codes and content types,
``Allow`` on 405/OPTIONS, schema-valid requests rejected, response schemas, ...) and the run must
end with zero failures. ``tests/edge/schemathesis.toml`` gives the session (the ``session``
security scheme) and names, with reasons, the few business rules no schema can state. The run
cannot pass vacuously: the NDJSON report must show successful (2xx) answers from the signed-in
operations in MUST_SUCCEED. Operations that would end the fuzzing principal itself (sign-out,
session revocation, password change) are excluded; their own tests are in tests/auth and
tests/workspaces. The generous rate limits come from ``tests.support.base_env``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.factories.users import create_actor
from tests.servers import ServerFactory
from tests.support import Actor, Database, Server

pytestmark = pytest.mark.checklist(
    "C7",
    red="let any route answer a 5xx or break its documented schema for generated input (e.g. drop"
    " a validator so bad input reaches the database)",
)

MAX_TIME_SECONDS = 240
CONFIG = Path(__file__).with_name("schemathesis.toml")
EXCLUDED_OPERATIONS = [
    "logout_v1_auth_logout_post",
    "logout_all_v1_auth_logout_all_post",
    "change_password_v1_auth_password_change_post",
    "revoke_my_session_v1_me_sessions__session_id__delete",
]
# Signed-in operations that must have answered 2xx at least once: proof the session worked.
MUST_SUCCEED = (
    "GET /v1/me",
    "GET /v1/me/sessions",
    "GET /v1/workspaces",
    "POST /v1/workspaces",
    "GET /v1/tools",
)


@pytest.fixture(scope="module")
def docs_server(server_factory: ServerFactory) -> Iterator[Server]:
    with server_factory(name="schemathesis", DOCS_ENABLED="true") as server:
        assert server.env["ENVIRONMENT"] == "test"
        yield server


def run_schemathesis(
    server: Server, actor: Actor, workdir: Path
) -> subprocess.CompletedProcess[str]:
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file",
        str(CONFIG),
        "run",
        f"{server.url}/openapi.json",
        "--header",
        f"Origin: {server.origin}",
        "--max-examples",
        "25",
        "--max-time",
        str(MAX_TIME_SECONDS),
        "--request-timeout",
        "10",
        "--seed",
        "1",
        "--generation-database",
        "none",
        "--report",
        "ndjson",
        "--report-ndjson-path",
        str(workdir / "events.ndjson"),
        "--no-color",
    ]
    for operation_id in EXCLUDED_OPERATIONS:
        command += ["--exclude-operation-id", operation_id]
    return subprocess.run(
        command,
        cwd=workdir,
        env={**os.environ, "LP_FUZZ_SESSION": actor.cookie or ""},
        capture_output=True,
        text=True,
        timeout=MAX_TIME_SECONDS + 45,
        check=False,
    )


def statuses_by_operation(events_path: Path) -> dict[str, Counter[int]]:
    """``"GET /v1/me" -> Counter({200: 12, 422: 3})`` from the NDJSON event stream."""
    seen: dict[str, Counter[int]] = defaultdict(Counter)
    for line in events_path.read_text(encoding="utf-8").splitlines():
        finished = json.loads(line).get("ScenarioFinished")
        if not finished:
            continue
        recorder = finished["recorder"]
        for interaction in recorder.get("interactions", {}).values():
            response = interaction.get("response")
            if response:
                seen[recorder["label"]][int(response["status_code"])] += 1
    return seen


@pytest.mark.timeout(MAX_TIME_SECONDS + 120)
def test_schemathesis_finds_no_failure_of_any_kind(
    docs_server: Server, db: Database, tmp_path: Path
) -> None:
    actor = create_actor(docs_server, db, "fuzz")
    result = run_schemathesis(docs_server, actor, tmp_path)
    output = result.stdout + result.stderr
    failures = output[output.find("FAILURES") : output.find("WARNINGS")]
    assert result.returncode == 0, (failures or output)[-20000:]
    seen = statuses_by_operation(tmp_path / "events.ndjson")
    errors = {op: dict(c) for op, c in seen.items() if any(status >= 500 for status in c)}
    assert errors == {}
    for operation in MUST_SUCCEED:
        assert any(200 <= status < 300 for status in seen[operation]), (operation, seen[operation])
    total_ok = sum(n for c in seen.values() for status, n in c.items() if 200 <= status < 300)
    assert total_ok >= 50, f"too few successful calls to mean anything: {total_ok}"
