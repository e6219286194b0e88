"""The management CLI: ``python -m app <command>`` (also installed as ``launchproof``).

``main`` configures logging and error reporting once, before any command runs
(app/core/logging.py): every process started through here (API, worker, migrations, model stub,
mail sink, management commands) logs redacted JSON lines and never prints a traceback of its
own. What a command prints for a person (``check-config``'s list, ``dev-admin``'s one-time
password, ``created user ...``) stays plain text: that output is the command's purpose.
"""

from __future__ import annotations

import argparse
import getpass
import importlib
import importlib.util
import os
import sys
from collections.abc import Sequence
from types import ModuleType

from pydantic import ValidationError

from app.core.config import Environment, Settings, get_settings
from app.core.logging import configure_logging
from app.core.logging import run as run_async
from app.scorecard.command import add_check_parser
from app.serve import add_serve_parser


def _migrate(_args: argparse.Namespace) -> int:
    """One-shot, idempotent (already at head: nothing to do); any failure exits non-zero."""
    from app.core.migrations import MigrationsNotFound, upgrade

    try:
        upgrade("heads")
    except MigrationsNotFound as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("migrations applied")
    return 0


def _development_module(command: str, module: str) -> ModuleType | None:
    """A development-only module, or None (said on stderr) when this installation lacks it.

    The production wheel and image leave out app.devtools and app.model_stub (pyproject.toml),
    and their third-party dependencies (the dev and test extras).
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        print(
            f"error: {command} is a development tool, not part of this installation "
            f"({exc.name} is missing); use a source checkout with the dev and test extras",
            file=sys.stderr,
        )
        return None


def _worker(args: argparse.Namespace) -> int:
    # The worker exposes its own metrics (never the API's multiprocess files: no double count).
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
    from app.worker import run_worker

    if args.metrics_port:
        from prometheus_client import start_http_server

        from app.core.metrics import REGISTRY

        start_http_server(args.metrics_port, addr=args.metrics_host, registry=REGISTRY)
    from app.worker import select_jobs

    only = [name.strip() for name in args.jobs.split(",") if name.strip()] if args.jobs else None
    try:
        select_jobs(only)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    ok = run_async(run_worker(get_settings(), once=args.once, only=only))
    return 0 if ok else 1


def _healthcheck(args: argparse.Namespace) -> int:
    """The image's HEALTHCHECK: GET /healthz on this container, no curl in the image.

    Sent with the first exact ``ALLOWED_HOSTS`` name as Host, since the host check answers 400
    to any other (the HTTPS redirect exempts the probe paths).
    """
    import urllib.error
    import urllib.request

    exact = [host for host in get_settings().allowed_hosts if "*" not in host]
    headers = {"Host": exact[0]} if exact else {}
    request = urllib.request.Request(f"http://127.0.0.1:{args.port}/healthz", headers=headers)
    try:
        # A fixed http URL on this container.
        with urllib.request.urlopen(request, timeout=args.timeout) as response:  # noqa: S310
            ok = response.status == 200
    except (urllib.error.URLError, OSError):
        ok = False
    return 0 if ok else 1


def _model_stub(args: argparse.Namespace) -> int:
    server = _development_module("model-stub", "app.model_stub.server")
    if server is None:
        return 2
    try:
        server.serve(args.host, args.port)
    except server.NotLoopback as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def _read_password() -> str:
    if sys.stdin.isatty():
        return getpass.getpass("Password: ")
    return sys.stdin.readline().rstrip("\n")


def _create_user(args: argparse.Namespace) -> int:
    from app.users.admin_cli import create_user

    password = _read_password()
    try:
        user_id = run_async(
            create_user(
                get_settings(),
                email=args.email,
                password=password,
                staff=args.admin,
                verified=args.verified,
            )
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"created user {user_id}")
    return 0


def _check_config(args: argparse.Namespace) -> int:
    settings = get_settings()
    values = settings.model_dump()
    if args.staging_fingerprints:
        from pathlib import Path

        # Checked by production_problems like the setting of the same name.
        try:
            text = Path(args.staging_fingerprints).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            print(
                f"error: cannot read --staging-fingerprints: {exc.__class__.__name__}",
                file=sys.stderr,
            )
            return 2
        values["staging_secret_fingerprints"] = text
    problems = Settings.model_validate(
        {**values, "environment": Environment.PRODUCTION}
    ).production_problems()
    if not problems:
        print("configuration is acceptable for production")
        return 0
    print("production would refuse to start:")
    for problem in problems:
        print(f"  - {problem}")
    return 1


def _secret_fingerprints(args: argparse.Namespace) -> int:
    import json

    from app.core.secret_fingerprints import fingerprint_document

    settings = get_settings()
    document = fingerprint_document(settings, args.environment or settings.environment.value)
    if not document["fingerprints"]:
        print("error: this environment holds no secret to fingerprint", file=sys.stderr)
        return 2
    print(json.dumps(document, indent=2))
    return 0


def _check_domain(args: argparse.Namespace) -> int:
    from app.email.domain_check import check_domain, make_resolver

    settings = get_settings()
    selector = args.selector or settings.dkim_selector
    if not selector:
        print("error: give --selector or set DKIM_SELECTOR", file=sys.stderr)
        return 2
    key = settings.dkim_private_key
    try:
        resolver = make_resolver(args.nameserver)
    except ValueError:
        print("error: --nameserver takes IP[:PORT]", file=sys.stderr)
        return 2
    results = check_domain(
        args.domain,
        selector=selector,
        private_key_pem=key.get_secret_value().encode() if key is not None else None,
        resolver=resolver,
    )
    for result in results:
        print(result.line())
    return 0 if all(result.ok for result in results) else 1


def _mail_sink(args: argparse.Namespace) -> int:
    from pathlib import Path

    sink = _development_module("mail-sink", "app.devtools.mail_sink")
    if sink is None:
        return 2
    try:
        sink.serve(args.host, args.port, Path(args.dir))
    except sink.NotLoopback as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="launchproof", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply database migrations (owner role)").set_defaults(
        func=_migrate
    )
    add_serve_parser(sub)
    add_check_parser(sub)
    worker = sub.add_parser("worker", help="run background jobs")
    worker.add_argument("--once", action="store_true", help="run every job once and exit")
    worker.add_argument(
        "--jobs", default="", help="comma-separated job names to run (default: every job)"
    )
    worker.add_argument(
        "--metrics-port", type=int, default=0, help="serve this worker's /metrics (0 = off)"
    )
    worker.add_argument(
        "--metrics-host", default="127.0.0.1", help="metrics listen address (loopback default)"
    )
    worker.set_defaults(func=_worker)
    health = sub.add_parser("healthcheck", help="exit 0 when this host's API answers /healthz")
    health.add_argument("--port", type=int, default=8000)
    health.add_argument("--timeout", type=float, default=4.0)
    health.set_defaults(func=_healthcheck)
    stub = sub.add_parser("model-stub", help="run the OpenAI-compatible model stub (loopback only)")
    stub.add_argument("--host", default="127.0.0.1")
    stub.add_argument("--port", type=int, default=8300)
    stub.set_defaults(func=_model_stub)
    create = sub.add_parser(
        "create-user",
        help="create a user; the password is read from standard input (never an argument)",
        description="Create a user. The password is read from standard input (a prompt on a "
        "terminal, else the first line), never from an argument, so it stays out of shell history "
        "and process lists.",
    )
    create.add_argument("--email", required=True)
    create.add_argument("--admin", action="store_true", help="platform staff")
    create.add_argument("--verified", action="store_true", help="mark the e-mail as verified")
    create.set_defaults(func=_create_user)
    check = sub.add_parser("check-config", help="print what production would refuse")
    check.add_argument(
        "--staging-fingerprints",
        metavar="FILE",
        help="refuse any secret that staging also holds (output of secret-fingerprints)",
    )
    check.set_defaults(func=_check_config)
    # --- Secrets lifecycle (docs/secrets.md) ---
    fingerprints = sub.add_parser(
        "secret-fingerprints",
        help="print salted scrypt fingerprints of this environment's secrets (JSON, no values)",
    )
    fingerprints.add_argument(
        "--environment", help="label stored in the document (default: ENVIRONMENT)"
    )
    fingerprints.set_defaults(func=_secret_fingerprints)
    # --- Platform e-mail: domain check and the development sink ---
    domain = sub.add_parser("check-domain", help="check the sending domain's SPF, DKIM and DMARC")
    domain.add_argument("domain")
    domain.add_argument("--selector", help="DKIM selector (default: DKIM_SELECTOR)")
    domain.add_argument("--nameserver", help="ask only this DNS server, IP[:PORT]")
    domain.set_defaults(func=_check_domain)
    sink = sub.add_parser("mail-sink", help="development only: an SMTP sink on loopback")
    sink.add_argument("--host", default="127.0.0.1")
    sink.add_argument("--port", type=int, default=8025)
    sink.add_argument("--dir", default=".data/mail", help="where messages are saved (.eml)")
    sink.set_defaults(func=_mail_sink)
    dev_db = sub.add_parser("dev-db", help="development only: embedded PostgreSQL and roles")
    dev_db.add_argument("--data-dir", default=".data/pg")
    dev_db.add_argument("--env-file", default=".data/dev.env")
    dev_db.add_argument("--database", default="launchproof")
    dev_db.add_argument(
        "--admin-url-only", action="store_true", help="start it, print the admin URL"
    )
    dev_db.add_argument("--stop", action="store_true", help="stop the embedded server")
    dev_db.set_defaults(func=_dev_db)
    sub.add_parser(
        "dev-admin", help="development only: create the first staff user with a one-time password"
    ).set_defaults(func=_dev_admin)
    return parser


def _dev_db(args: argparse.Namespace) -> int:
    from pathlib import Path

    database = _development_module("dev-db", "app.devtools.database")
    dev_env = _development_module("dev-db", "app.devtools.dev_env")
    if database is None or dev_env is None:
        return 2
    if args.stop:
        database.stop_embedded(Path(args.data_dir).resolve())
        return 0
    if args.admin_url_only:
        print(database.start_embedded(Path(args.data_dir).resolve()))
        return 0
    print(dev_env.prepare_dev_env(args.data_dir, args.env_file, args.database))
    return 0


def _dev_admin(_args: argparse.Namespace) -> int:
    settings = get_settings()
    if settings.environment is Environment.PRODUCTION:
        print("dev-admin is for development only; use create-user", file=sys.stderr)
        return 2
    dev_admin = _development_module("dev-admin", "app.devtools.dev_admin")
    if dev_admin is None:
        return 2
    print(run_async(dev_admin.ensure_first_admin(settings)))
    return 0


def _init_observability() -> None:
    """Logging and error reporting for this process, whatever the command."""
    try:
        settings: Settings | None = get_settings()
    except ValidationError:
        settings = None  # the command that needs settings fails on them, through the hook
    configure_logging(settings)
    if settings is not None:
        from app.core.error_reporting import init_error_reporting

        init_error_reporting(settings)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command != "dev-db" and importlib.util.find_spec("app.devtools") is not None:
        importlib.import_module("app.devtools.dev_env").load_dev_env()  # development only
    _init_observability()
    result: int = args.func(args)
    return result
