"""``launchproof check URL [options]``: parse the operator's options and print the report.

Passwords of the throwaway accounts are never arguments (process lists, shell history, CI logs):
``--account EMAIL:ENVVAR[:TOTPVAR]`` names the environment variables that hold it and, for an
account with an authenticator app, its TOTP secret (base32). Usage errors exit 2, like
argparse's own.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

from app.scorecard.context import Account, Options

DEFAULT_MAX_REQUESTS = 2000
DEFAULT_MAX_SECONDS = 60.0


class UsageError(Exception):
    """A bad option: printed as ``error: ...`` with exit code 2."""


def add_check_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    check = sub.add_parser(
        "check",
        help="score a live deployment against the launch checklist (docs/scorecard.md)",
        description="Score a deployment from the outside within a request and time budget; "
        "exit 0 (no FAIL), 1 (a FAIL), 2 (usage or checker error). See docs/scorecard.md.",
    )
    check.add_argument("url", help="the deployment's public base URL, https://host")
    check.add_argument("--http-url", help="where plain http answers (default: http://host)")
    check.add_argument("--origin", help="the origin's own URL, which must not be reachable")
    check.add_argument("--expect-cloudflare", action="store_true", help="require cf-ray")
    check.add_argument(
        "--account",
        action="append",
        default=[],
        metavar="EMAIL:ENVVAR[:TOTPVAR]",
        help="a throwaway account; its password is read from ENVVAR, its TOTP secret (base32) "
        "from TOTPVAR when it has a second factor (repeat for A and B)",
    )
    check.add_argument("--domain", help="the sending domain (SPF, DKIM, DMARC)")
    check.add_argument("--dkim-selector", help="the DKIM selector of --domain")
    check.add_argument("--nameserver", help="ask only this DNS server, IP[:PORT]")
    check.add_argument("--openapi", type=Path, help="route inventory from this OpenAPI document")
    check.add_argument("--log-file", type=Path, help="the server's log for this run")
    check.add_argument("--repo", type=Path, help="the source tree (deployment row)")
    check.add_argument("--env-file", type=Path, help="production settings for check-config")
    check.add_argument(
        "--budget",
        action="append",
        default=[],
        metavar="NAME=LIMIT",
        help="a documented rate limit when not the default, e.g. login_ip=20/minute",
    )
    check.add_argument("--max-requests", type=int, default=DEFAULT_MAX_REQUESTS)
    check.add_argument("--max-seconds", type=float, default=DEFAULT_MAX_SECONDS)
    check.add_argument(
        "--resolve",
        action="append",
        default=[],
        metavar="HOST=ADDR",
        help="connect to ADDR for HOST (TLS still verifies HOST), like curl --resolve",
    )
    check.add_argument("--ca-file", help="trust this CA bundle too (a private CA)")
    check.add_argument("--p95-samples", type=int, default=60)
    check.add_argument(
        "--staff-account",
        metavar="EMAIL:ENVVAR[:TOTPVAR]",
        help="a throwaway staff account for the admin rate limit (password read from ENVVAR, "
        "its TOTP secret from TOTPVAR: staff need a second factor)",
    )
    check.add_argument("--webhook-source", help="an inbound webhook source configured there")
    check.add_argument(
        "--audit", action="store_true", help="with --repo: pip-audit the lock (uses the network)"
    )
    check.add_argument("--format", choices=("md", "json", "junit"), default="md")
    check.add_argument("--markdown", type=Path, metavar="FILE", help="also write Markdown here")
    check.add_argument("--json", type=Path, metavar="FILE", help="also write JSON here")
    check.add_argument("--junit", type=Path, metavar="FILE", help="also write JUnit XML here")
    check.set_defaults(func=check_command)


def _pairs(values: list[str], separator: str, what: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for value in values:
        key, found, rest = value.partition(separator)
        if not found or not key or not rest:
            raise UsageError(f"{what} takes NAME{separator}VALUE, got {value!r}")
        pairs[key] = rest
    return pairs


def _base_url(url: str, option: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{option} must be an absolute http(s) URL, got {url!r}")
    return f"{parts.scheme}://{parts.netloc}"


def _accounts(values: list[str]) -> tuple[Account, ...]:
    accounts = []
    for value in values:
        email, *variables = value.split(":")
        if "@" not in email or len(variables) not in (1, 2) or not all(variables):
            raise UsageError(f"--account takes EMAIL:ENVVAR[:TOTPVAR], got {value!r}")
        password = os.environ.get(variables[0])
        if not password:
            raise UsageError(f"--account {email}: environment variable {variables[0]} is not set")
        secret = _totp_secret(email, variables[1]) if len(variables) == 2 else None
        accounts.append(Account(email, password, secret))
    return tuple(accounts)


def _totp_secret(email: str, variable: str) -> str:
    """The base32 TOTP secret in ``variable``, checked without ever echoing it."""
    secret = "".join(os.environ.get(variable, "").split()).upper()
    if not secret:
        raise UsageError(f"--account {email}: environment variable {variable} is not set")
    try:
        base64.b32decode(secret + "=" * (-len(secret) % 8))
    except (binascii.Error, ValueError):
        raise UsageError(f"--account {email}: {variable} is not a base32 TOTP secret") from None
    return secret


def _budgets(values: list[str]) -> dict[str, str]:
    """``--budget NAME=LIMIT`` pairs, refused at once when a name or notation is unknown."""
    from app.scorecard.budgets import documented

    pairs = _pairs(values, "=", "--budget")
    try:
        documented(pairs)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return pairs


def options_from(args: argparse.Namespace) -> Options:
    if args.max_requests < 1 or args.max_seconds <= 0 or args.p95_samples < 1:
        raise UsageError("--max-requests, --max-seconds and --p95-samples must be positive")
    return Options(
        base_url=_base_url(args.url, "URL"),
        http_url=_base_url(args.http_url, "--http-url") if args.http_url else None,
        origin_url=_base_url(args.origin, "--origin") if args.origin else None,
        expect_cloudflare=args.expect_cloudflare,
        accounts=_accounts(args.account),
        domain=args.domain,
        dkim_selector=args.dkim_selector,
        nameserver=args.nameserver,
        openapi_path=args.openapi,
        log_file=args.log_file,
        repo=args.repo,
        env_file=args.env_file,
        budgets=_budgets(args.budget),
        p95_samples=args.p95_samples,
        staff_account=_accounts([args.staff_account])[0] if args.staff_account else None,
        webhook_source=args.webhook_source,
        audit=args.audit,
    )


def check_command(args: argparse.Namespace) -> int:
    from app.scorecard.probe import Budget, Probe
    from app.scorecard.report import FORMATS
    from app.scorecard.runner import run

    try:
        options = options_from(args)
        resolve = _pairs(args.resolve, "=", "--resolve")
        probe = Probe(
            Budget(args.max_requests, args.max_seconds), resolve=resolve, ca_file=args.ca_file
        )
    except (UsageError, OSError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    try:
        report = run(options, probe)
    finally:
        probe.close()
    for path, name in ((args.markdown, "md"), (args.json, "json"), (args.junit, "junit")):
        if path is not None:
            path.write_text(FORMATS[name](report), encoding="utf-8")
    sys.stdout.write(FORMATS[args.format](report))
    return report.exit_code
