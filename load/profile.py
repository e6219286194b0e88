"""Profile the API server under wrk load on one endpoint (py-spy, sampling; no code changes).

    python -m load.profile me|list|send [--seconds 15]

Starts the load stack, seeds a small platform, drives the endpoint with ``wrk -t1 -c32`` and
records the uvicorn process with ``py-spy record`` at the same time. Writes a speedscope JSON
and py-spy's top functions (``--format raw`` collapsed stacks) under ``reports/``.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
from datetime import UTC, datetime

from load.ceiling import launchproof_targets, run_wrk
from load.gate import say
from load.load_env import load_server_env
from load.seed_platform import seed_platform
from load.stack import ROOT, running_stack

ENDPOINTS = {"me": 0, "list": 1, "send": 2}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("endpoint", choices=sorted(ENDPOINTS))
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--http", choices=["h11", "httptools"], default=None)
    args = parser.parse_args(argv)
    py_spy = shutil.which("py-spy") or str(ROOT / ".venv" / "bin" / "py-spy")
    reports = ROOT / "reports"
    reports.mkdir(exist_ok=True)
    label = f"profile-{args.endpoint}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    with running_stack(reports, label, extra_env=load_server_env(), http=args.http) as stack:
        platform = asyncio.run(seed_platform(stack, users=2, conversations=30, turns=1))
        name, url, env = launchproof_targets(platform)[ENDPOINTS[args.endpoint]]
        run_wrk(url, env, seconds=3, connections=32, report=reports / f"{label}-wrk.json")
        out = reports / f"{label}.txt"
        record = subprocess.Popen(  # noqa: S603 - fixed arguments
            [py_spy, "record", "--pid", str(stack.server_pid), "--duration", str(args.seconds),
             "--rate", "200", "--format", "raw", "--output", str(out), "--nonblocking"],
        )  # fmt: skip
        result = run_wrk(
            url, env, seconds=args.seconds, connections=32, report=reports / f"{label}-wrk.json"
        )
        record.wait(timeout=args.seconds + 60)
        say(f"{name}: {result}")
        say(f"collapsed stacks: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
