"""Webhook delivery benchmark: one worker's throughput, and commit-to-delivery delay at load.

    python -m load.webhook_delivery [--backlog 2000] [--seconds 20] [--load 0.7] [--profile F]

Everything runs on loopback: a fresh database on the server named by ``DATABASE_URL`` (a
superuser URL, as for the tests), the real migrations, the real worker (``python -m app worker``,
test environment with 127.0.0.1 allowed as a receiver) and a threaded receiver in this process
that answers 204 and records when each ``webhook-id`` arrived. One workspace with one endpoint;
deliveries are written the way ``emit_event`` writes them (delivery + queue row, one
transaction), as the database superuser so the benchmark needs no users or sessions.

1. Throughput: ``--backlog`` deliveries are committed, then the worker starts; deliveries per
   second is counted from the first arrival to the last.
2. Delay at load: with the worker running, deliveries are committed in small batches every
   100 ms at ``--load`` x the measured throughput for ``--seconds``; for each one, the time from
   its commit to its arrival at the receiver. Percentiles are printed as a Markdown table
   (copied into docs/webhooks.md).
Not part of ``make test``.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg
from pydantic import SecretStr
from sqlalchemy.engine import make_url

from app.core.config import Environment, Settings
from app.devtools.database import bootstrap, drop_database
from app.webhooks.events import EventType, build_payload
from app.webhooks.outbound.secrets import encrypt_secret, new_signing_secret

ROOT = Path(__file__).resolve().parents[1]


class Arrivals:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.at: dict[str, float] = {}

    def handler(self) -> type[BaseHTTPRequestHandler]:
        arrivals = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                now = time.time()
                with arrivals.lock:
                    arrivals.at.setdefault(self.headers.get("webhook-id", ""), now)
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

        return Handler


def _dsn(url: str) -> str:
    parsed = make_url(url)
    host = parsed.host or "127.0.0.1"
    return f"host={host} port={parsed.port or 5432} dbname={parsed.database} user={parsed.username}"


def _enqueue(
    conn: psycopg.Connection[object], ws: uuid.UUID, ep: uuid.UUID, n: int
) -> dict[str, float]:
    """Commit ``n`` deliveries in one transaction; returns webhook-id -> commit time."""
    now = datetime.now(UTC)
    ids = [uuid.uuid4() for _ in range(n)]
    body = build_payload(
        EventType.TEST, {"endpoint_id": str(ep)}, include_content=False, occurred_at=now
    )
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO webhook_delivery (id, workspace_id, endpoint_id, event_type, payload, "
            "status, attempts) VALUES (%s, %s, %s, 'webhook.test', %s, 'pending', 0)",
            [(i, ws, ep, body) for i in ids],
        )
        cur.executemany(
            "INSERT INTO webhook_queue (delivery_id, workspace_id, next_attempt_at) "
            "VALUES (%s, %s, now())",
            [(i, ws) for i in ids],
        )
    committed = time.time()
    return {f"msg_{i.hex}": committed for i in ids}


def _wait(arrivals: Arrivals, expected: set[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with arrivals.lock:
            if expected <= arrivals.at.keys():
                return
        time.sleep(0.05)
    raise RuntimeError("not every delivery arrived in time")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backlog", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--load", type=float, default=0.7)
    parser.add_argument("--profile", help="write a pyinstrument profile of the worker here")
    args = parser.parse_args()
    admin = os.environ.get("DATABASE_URL")
    if not admin:
        raise SystemExit("set DATABASE_URL to a superuser URL (as for the tests)")
    name = f"lp_bench_{secrets.token_hex(4)}"
    urls = bootstrap(admin, name)
    secret_key = secrets.token_urlsafe(48)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DATABASE_")},
        "ENVIRONMENT": "test",
        "DATABASE_URL": urls.app,
        "DATABASE_MIGRATION_URL": urls.migration,
        "SECRET_KEY": secret_key,
        "OUTBOUND_DEV_ALLOWED_ADDRESSES": "127.0.0.1",
        "WORKER_POLL_SECONDS": "0.1",
    }
    arrivals = Arrivals()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), arrivals.handler())
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    worker: subprocess.Popen[bytes] | None = None
    try:
        migrated = subprocess.run(
            [sys.executable, "-m", "app", "migrate"], cwd=ROOT, env=env, capture_output=True
        )
        if migrated.returncode != 0:
            raise SystemExit(migrated.stderr.decode()[-2000:])
        settings = Settings(environment=Environment.TEST, secret_key=SecretStr(secret_key))
        workspace, endpoint = uuid.uuid4(), uuid.uuid4()
        bench_db = make_url(admin).set(database=name).render_as_string(hide_password=False)
        with psycopg.connect(_dsn(bench_db), autocommit=True) as conn:
            conn.execute("INSERT INTO workspace (id, name) VALUES (%s, 'Bench')", (workspace,))
            conn.execute(
                "INSERT INTO webhook_endpoint (id, workspace_id, url, description, event_types, "
                "include_content, enabled, secret_encrypted, consecutive_failures) VALUES "
                "(%s, %s, %s, '', ARRAY['conversation.created'], false, true, %s, 0)",
                (
                    endpoint,
                    workspace,
                    f"http://127.0.0.1:{httpd.server_address[1]}/hook",
                    encrypt_secret(settings, new_signing_secret()),
                ),
            )
            backlog = _enqueue(conn, workspace, endpoint, args.backlog)
            log = (ROOT / ".data").resolve()
            log.mkdir(exist_ok=True)
            profile = (
                ["-m", "pyinstrument", "-o", args.profile, "-r", "text"] if args.profile else []
            )
            worker = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [sys.executable, *profile, "-m", "app", "worker"],
                cwd=ROOT,
                env=env,
                stdout=(log / "webhook-bench-worker.log").open("wb"),
                stderr=subprocess.STDOUT,
            )
            _wait(arrivals, set(backlog), timeout=600)
            with arrivals.lock:
                times = [arrivals.at[i] for i in backlog]
            throughput = len(times) / max(max(times) - min(times), 1e-6)

            rate = max(args.load * throughput, 1.0)
            committed: dict[str, float] = {}
            started = time.monotonic()
            while time.monotonic() - started < args.seconds:
                tick = time.monotonic()
                committed.update(_enqueue(conn, workspace, endpoint, max(int(rate / 10), 1)))
                time.sleep(max(0.0, 0.1 - (time.monotonic() - tick)))
            _wait(arrivals, set(committed), timeout=300)
            with arrivals.lock:
                delays = sorted(arrivals.at[i] - t for i, t in committed.items())
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=15)
        httpd.shutdown()
        import asyncio

        asyncio.run(drop_database(admin, name))

    def pct(p: float) -> float:
        return delays[min(len(delays) - 1, int(p * len(delays)))] * 1000

    report = [
        json.dumps({"throughput_per_s": round(throughput, 1), "offered_per_s": round(rate, 1)}),
        "| measure | value |",
        "|---|---|",
        f"| backlog delivered | {len(times)} in {max(times) - min(times):.1f} s |",
        f"| one worker's throughput | {throughput:.0f} deliveries/s |",
        f"| offered load (delay phase) | {rate:.0f} deliveries/s for {args.seconds:.0f} s |",
        f"| commit → delivery p50 | {pct(0.50):.0f} ms |",
        f"| commit → delivery p95 | {pct(0.95):.0f} ms |",
        f"| commit → delivery p99 | {pct(0.99):.0f} ms |",
        f"| commit → delivery mean | {statistics.fmean(delays) * 1000:.0f} ms |",
    ]
    sys.stdout.write("\n".join(report) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
