"""Upload throughput and server memory for 10 MB and 100 MB files (docs/files.md, Benchmark).

``python -m load.upload_memory`` (options: ``--sizes 10,100 --rounds 3``). Starts its own stack on
127.0.0.1 (fresh database, migrations, uvicorn with one worker; ``load.stack``) with the upload
cap raised to 200 MiB and the quota to 4 GiB, seeds a user and a workspace through the API, then
uploads each size ``--rounds`` times as a streamed ``multipart/form-data`` body (a PNG signature
followed by random bytes, generated chunk by chunk: the client never holds the file either).

Memory is the server's resident set read from ``/proc/<pid>/status``: ``VmRSS`` before the
upload, and the peak ``VmHWM`` during it, after resetting the high-water mark through
``/proc/<pid>/clear_refs`` (write ``5``). Flat memory means the peak hardly moves between 10 MB
and 100 MB: the body is streamed to a temporary file and from there to storage, never held.
Scanning is off in this stack (``SCANNER_DISABLED``): it runs later in the worker and is not part
of the upload request. Prints a Markdown table and writes JSON under ``reports/``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from load.seed import seed
from load.stack import ROOT, running_stack

CHUNK = 256 * 1024
MIB = 1024 * 1024
BOUNDARY = "launchproof-bench-boundary"


def _status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/{pid}/status")


def _reset_peak(pid: int) -> bool:
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _body(size: int) -> Iterator[bytes]:
    yield (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="bench.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode()
    yield b"\x89PNG\r\n\x1a\n"
    sent = 8
    while sent < size:
        chunk = os.urandom(min(CHUNK, size - sent))
        sent += len(chunk)
        yield chunk
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


def _one(api: str, headers: dict[str, str], ws: str, pid: int, size: int) -> dict[str, Any]:
    rss_before = _status_kib(pid, "VmRSS")
    reset = _reset_peak(pid)
    started = time.perf_counter()
    response = httpx.post(
        f"{api}/v1/workspaces/{ws}/files",
        headers={**headers, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
        content=_body(size),
        timeout=600,
    )
    elapsed = time.perf_counter() - started
    if response.status_code != 201:
        raise RuntimeError(f"upload failed: {response.status_code} {response.text[:300]}")
    return {
        "size_mb": size // MIB,
        "seconds": round(elapsed, 3),
        "mb_per_s": round(size / MIB / elapsed, 1),
        "rss_before_mib": round(rss_before / 1024, 1),
        "peak_rss_mib": round(_status_kib(pid, "VmHWM") / 1024, 1),
        "peak_reset": reset,
    }


def run(sizes: list[int], rounds: int) -> list[dict[str, Any]]:
    reports = ROOT / "reports"
    reports.mkdir(exist_ok=True)
    storage = Path(tempfile.mkdtemp(prefix="lp-bench-files-"))
    extra = {
        "MAX_UPLOAD_BODY_BYTES": str(200 * MIB),
        "FILE_WORKSPACE_QUOTA_BYTES": str(4096 * MIB),
        "SCANNER_DISABLED": "true",
        "STORAGE_BACKEND": "local",
        "STORAGE_LOCAL_DIR": str(storage),
        "RATE_LIMIT_UPLOAD": "100000/minute",
    }
    results: list[dict[str, Any]] = []
    with running_stack(reports, "upload", extra_env=extra) as stack:
        seeded = asyncio.run(seed(stack, conversations=0, history_turns=0))
        for size_mb in sizes:
            for _ in range(rounds):
                results.append(
                    _one(
                        stack.api_url,
                        seeded.headers(),
                        seeded.workspace_id,
                        stack.server_pid,
                        size_mb * MIB,
                    )
                )
    (reports / "upload_memory.json").write_text(json.dumps(results, indent=2))
    return results


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| file | uploads | median time | median rate | RSS before | peak RSS during |",
        "|---|---|---|---|---|---|",
    ]
    for size in sorted({r["size_mb"] for r in results}):
        rows = [r for r in results if r["size_mb"] == size]
        lines.append(
            f"| {size} MB | {len(rows)} "
            f"| {statistics.median(r['seconds'] for r in rows):.2f} s "
            f"| {statistics.median(r['mb_per_s'] for r in rows):.0f} MB/s "
            f"| {max(r['rss_before_mib'] for r in rows):.0f} MiB "
            f"| {max(r['peak_rss_mib'] for r in rows):.0f} MiB |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", default="10,100", help="file sizes in MB, comma-separated")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    results = run([int(s) for s in args.sizes.split(",")], args.rounds)
    print(table(results))  # noqa: T201 - a command-line report


if __name__ == "__main__":
    main()
