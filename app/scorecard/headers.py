"""Pure rules for response headers, as the MDN HTTP Observatory scores them.

Kept apart from the checks (which fetch) so each rule is a plain function of header values.
Hand-written because no maintained library scores headers offline: the Observatory is a web
service, and the rules are short (https://developer.mozilla.org/en-US/observatory/docs/tests_and_scoring).
"""

from __future__ import annotations

import re

import httpx

MIN_HSTS_SECONDS = 31_536_000  # one year: the HSTS preload list's floor and the Observatory's
SAFE_REFERRER_POLICIES = frozenset(
    {"no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"}
)
SAFE_CORP = frozenset({"same-origin", "same-site"})
SAFE_COOP = frozenset({"same-origin", "same-origin-allow-popups"})
# Response headers that name the software or its version.
BANNER_HEADERS = ("x-powered-by", "x-aspnet-version", "x-aspnetmvc-version", "x-generator")
_VERSION = re.compile(r"\d")


def hsts_problems(value: str | None) -> list[str]:
    """Empty when ``Strict-Transport-Security`` is at least a year with includeSubDomains."""
    if not value:
        return ["no Strict-Transport-Security"]
    directives = [d.strip().lower() for d in value.split(";") if d.strip()]
    problems = []
    ages = [d.partition("=")[2].strip('" ') for d in directives if d.startswith("max-age")]
    if len(ages) != 1 or not ages[0].isdigit():
        problems.append(f"no valid max-age in {value!r}")
    elif int(ages[0]) < MIN_HSTS_SECONDS:
        problems.append(f"max-age={ages[0]} is under {MIN_HSTS_SECONDS} (one year)")
    if "includesubdomains" not in directives:
        problems.append("no includeSubDomains")
    return problems


def csp_directives(value: str) -> dict[str, list[str]]:
    """``default-src 'none'; frame-ancestors 'none'`` -> {directive: [sources]} (first wins)."""
    parsed: dict[str, list[str]] = {}
    for part in value.split(";"):
        tokens = part.split()
        if tokens and tokens[0].lower() not in parsed:
            parsed[tokens[0].lower()] = [t.lower() for t in tokens[1:]]
    return parsed


def csp_problems(value: str | None) -> list[str]:
    if not value:
        return ["no Content-Security-Policy"]
    directives = csp_directives(value)
    problems = []
    scripts = directives.get("script-src", directives.get("default-src"))
    if scripts is None:
        problems.append("CSP has neither default-src nor script-src")
    for directive in ("default-src", "script-src", "style-src"):
        for unsafe in ("'unsafe-inline'", "'unsafe-eval'"):
            if unsafe in directives.get(directive, []):
                problems.append(f"CSP {directive} allows {unsafe}")
    if "frame-ancestors" not in directives:
        problems.append("CSP has no frame-ancestors")
    return problems


def security_header_problems(response: httpx.Response) -> list[str]:
    """Everything the Observatory scores on one response, except cookies (the cors row's)."""
    headers = response.headers
    problems = csp_problems(headers.get("content-security-policy"))
    if headers.get("x-content-type-options", "").strip().lower() != "nosniff":
        problems.append("X-Content-Type-Options is not nosniff")
    frame_options = headers.get("x-frame-options", "").strip().upper()
    framed = "frame-ancestors" in csp_directives(headers.get("content-security-policy", ""))
    if frame_options not in ("DENY", "SAMEORIGIN") and not framed:
        problems.append("neither X-Frame-Options DENY/SAMEORIGIN nor CSP frame-ancestors")
    referrer = headers.get("referrer-policy", "")
    # The last recognised token wins in browsers: judge that one.
    tokens = [t.strip().lower() for t in referrer.split(",") if t.strip()]
    if not tokens or tokens[-1] not in SAFE_REFERRER_POLICIES:
        problems.append(f"Referrer-Policy {referrer or 'missing'} leaks the URL")
    problems += hsts_problems(headers.get("strict-transport-security"))
    corp = headers.get("cross-origin-resource-policy")
    if corp is not None and corp.strip().lower() not in SAFE_CORP:
        problems.append(f"Cross-Origin-Resource-Policy {corp}")
    coop = headers.get("cross-origin-opener-policy")
    if coop is not None and coop.strip().lower() not in SAFE_COOP:
        problems.append(f"Cross-Origin-Opener-Policy {coop}")
    return problems


def banner_problems(response: httpx.Response) -> list[str]:
    """A ``Server`` header with a version, or any header that names the framework."""
    problems = []
    server = response.headers.get("server")
    if server is not None and _VERSION.search(server):
        problems.append(f"Server: {server}")
    problems.extend(
        f"{name}: {response.headers[name]}" for name in BANNER_HEADERS if name in response.headers
    )
    return problems
