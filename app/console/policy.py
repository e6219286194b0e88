"""The console's response headers: a CSP strict enough to make injected markup inert.

The API's own ``default-src 'none'`` (app/core/security_headers.py) would forbid the console's
scripts; these pages get a policy of their own, still without ``unsafe-inline``,
``unsafe-eval`` or any host but our own: scripts and styles only from ``/console/assets``
files on this origin, no inline script, style, or event-handler attribute, no ``eval``.
Trusted Types are required and no policy may be created (``trusted-types 'none'``): every DOM
XSS sink (``innerHTML``, ``document.write``, script URLs) throws, so the console can only build
its pages with ``textContent`` and ``createElement`` (docs/console.md).
"""

from __future__ import annotations

REPORT_PATH = "/console/csp-reports"

CONSOLE_CSP = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-src 'none'",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "require-trusted-types-for 'script'",
        "trusted-types 'none'",
        # report-uri, not report-to: every engine sends it at once, per violation. Chromium
        # ignores report-uri as soon as report-to is present, and batches Reporting API uploads
        # (in our tests none arrived within 75 s), losing what short sessions saw. The sink
        # accepts the Reporting API's format too, for a deployment that adds it.
        f"report-uri {REPORT_PATH}",
    )
)

SHELL_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONSOLE_CSP,
    # A window this page opens (or that opens it) gets no handle on it: no cross-window XS-leaks.
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    # The shell holds nothing secret, but a stale shell would pair old scripts with a new API.
    "Cache-Control": "no-store",
}

ASSET_HEADERS: dict[str, str] = {"Cache-Control": "no-cache"}
