"""TLS as served at the public name, with the standard library's ``ssl`` (OpenSSL).

Each question is its own handshake (one counted request): TLS 1.0 and 1.1 refused, TLS 1.3
offered, the suite a modern client gets forward-secret and AEAD (and a TLS 1.2 client offering only
insufficient suites refused), no compression, and the certificate: chain, name, expiry.

A client cannot prove a server refuses what the client itself cannot send: when this machine's
OpenSSL will not even offer TLS 1.0/1.1 (its build or policy), that part says NOT CHECKED.
"""

from __future__ import annotations

import datetime as dt
import functools
import ssl
import warnings
from urllib.parse import urlsplit

from app.scorecard.context import Context
from app.scorecard.model import Evidence
from app.scorecard.registry import CheckFn, Verdict, check

ROW = "https_edge"
MIN_DAYS_LEFT = 14
TLS_FIX = (
    "infra/cloudflare/zone_settings.tf (min_tls_version 1.2, tls_1_3 on); cipher suites: "
    "Cloudflare's API (Advanced Certificate Manager); your own terminator: Mozilla's "
    "intermediate profile; uvicorn: app/serve.py TLS12_CIPHERS"
)
# TLS 1.2 suites offered alone, by the NCSC's TLS guidelines (which internet.nl applies):
# "insufficient" ones fail the check if accepted; "phase out" ones (CBC, static RSA key exchange)
# are reported but pass, because a Cloudflare zone cannot drop them without Advanced Certificate
# Manager. @SECLEVEL=0 lets this OpenSSL offer them at all; what it cannot offer is not asked.
WEAK_TLS12 = (
    (
        "no encryption, anonymous, 3DES, RC4 or export suites",
        "eNULL:aNULL:3DES:RC4:EXP:@SECLEVEL=0",
        True,
    ),
    ("CBC suites (no AEAD; phase out)", "ECDHE+AES:DHE+AES:!AESGCM:!AESCCM:@SECLEVEL=0", False),
    ("static RSA key exchange (no forward secrecy; phase out)", "kRSA:@SECLEVEL=0", False),
)
FORWARD_SECRET_AEAD_TLS12 = ("ECDHE-", "DHE-")
AEAD_MARKERS = ("GCM", "CHACHA20", "CCM")


NO_ANSWER = "no answer"
BASELINE_KEY = "tls.baseline"


class NotHttps(Exception):
    pass


def _target(ctx: Context) -> tuple[str, int]:
    parts = urlsplit(ctx.options.base_url)
    if parts.scheme != "https" or not parts.hostname:
        raise NotHttps(ctx.options.base_url)
    return parts.hostname, parts.port or 443


def _client(
    ctx: Context,
    *,
    low: ssl.TLSVersion | None = None,
    high: ssl.TLSVersion | None = None,
    ciphers: str | None = None,
    verify: bool = True,
) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if ctx.probe.ca_file:
        context.load_verify_locations(ctx.probe.ca_file)
    if not verify:  # protocol questions are about the server's TLS, not its certificate
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    with warnings.catch_warnings():  # TLS 1.0/1.1 enums are deprecated: offering them is the test
        warnings.simplefilter("ignore", DeprecationWarning)
        if low is not None:
            context.minimum_version = low
        if high is not None:
            context.maximum_version = high
    if ciphers:
        context.set_ciphers(ciphers)
    return context


def _handshake(ctx: Context, context: ssl.SSLContext) -> tuple[ssl.SSLSocket | None, str]:
    """(socket, "") on success, else (None, the reason)."""
    host, port = _target(ctx)
    try:
        return ctx.probe.connect_tls(host, port, context=context), ""
    except ssl.SSLCertVerificationError as exc:
        return None, f"certificate: {exc.verify_message}"
    except ssl.SSLError as exc:
        return None, str(exc.reason or type(exc).__name__)
    except (ConnectionResetError, BrokenPipeError):
        return None, "connection reset during the handshake"
    except OSError as exc:  # refused, timed out, unknown name: nobody to ask
        return None, f"{NO_ANSWER}: {type(exc).__name__}"


def _answers(ctx: Context) -> Evidence | None:
    """None when a modern client completes a handshake (so a refusal is the server's choice),
    else the evidence of why not; asked once per run."""
    if BASELINE_KEY not in ctx.state:
        sock, reason = _handshake(ctx, _client(ctx, verify=False))
        if sock is not None:
            sock.close()
        ctx.state[BASELINE_KEY] = reason
    reason = ctx.state[BASELINE_KEY]
    return Evidence(_label(ctx, "a modern client"), None, reason) if reason else None


def _label(ctx: Context, what: str) -> str:
    host, port = _target(ctx)
    return f"TLS handshake {host}:{port} ({what})"


def https_only(fn: CheckFn) -> CheckFn:
    """A base URL that is not https fails every TLS question (there is no TLS to ask)."""

    @functools.wraps(fn)
    def checked(ctx: Context) -> Verdict:
        try:
            _target(ctx)
        except NotHttps:
            return Verdict.failed(Evidence(ctx.options.base_url, None, "the base URL is not https"))
        return fn(ctx)

    return checked


@check(ROW, "tls.legacy_refused", "TLS 1.0 and 1.1 handshakes are refused", fix=TLS_FIX)
@https_only
def legacy_refused(ctx: Context) -> Verdict:
    silent = _answers(ctx)
    if silent is not None:
        return Verdict.not_checked("no TLS handshake succeeds at all", silent)
    evidence, failed, unable = [], False, []
    for name, version in (("TLS 1.0", ssl.TLSVersion.TLSv1), ("TLS 1.1", ssl.TLSVersion.TLSv1_1)):
        try:
            context = _client(
                ctx, low=version, high=version, ciphers="ALL:@SECLEVEL=0", verify=False
            )
        except (ValueError, ssl.SSLError):
            unable.append(name)
            continue
        sock, reason = _handshake(ctx, context)
        if sock is not None:
            failed = True
            evidence.append(
                Evidence(_label(ctx, f"offering only {name}"), None, f"accepted: {sock.version()}")
            )
            sock.close()
        elif reason.startswith(NO_ANSWER):
            return Verdict.not_checked("the deployment stopped answering", *evidence)
        elif "NO_PROTOCOLS_AVAILABLE" in reason or "NO_CIPHERS_AVAILABLE" in reason:
            unable.append(name)  # refused by this machine's OpenSSL before a byte was sent
        else:
            evidence.append(
                Evidence(_label(ctx, f"offering only {name}"), None, f"refused: {reason}")
            )
    if failed:
        return Verdict.failed(*evidence)
    if unable:
        return Verdict.not_checked(
            f"this machine's OpenSSL ({ssl.OPENSSL_VERSION}) cannot offer {' and '.join(unable)}",
            *evidence,
        )
    return Verdict.passed(*evidence)


@check(ROW, "tls.v13_offered", "TLS 1.3 is offered", fix=TLS_FIX)
@https_only
def v13_offered(ctx: Context) -> Verdict:
    context = _client(ctx, low=ssl.TLSVersion.TLSv1_3, verify=False)
    sock, reason = _handshake(ctx, context)
    label = _label(ctx, "offering only TLS 1.3")
    if sock is None:
        if reason.startswith(NO_ANSWER):
            return Verdict.not_checked(
                "the deployment did not answer", Evidence(label, None, reason)
            )
        return Verdict.failed(Evidence(label, None, f"refused: {reason}"))
    version = sock.version()
    sock.close()
    return Verdict.passed(Evidence(label, None, f"negotiated {version}"))


def _forward_secret_aead(version: str | None, cipher: str) -> bool:
    if version == "TLSv1.3":
        return True  # every TLS 1.3 suite is AEAD with an ephemeral key exchange
    return cipher.startswith(FORWARD_SECRET_AEAD_TLS12) and any(m in cipher for m in AEAD_MARKERS)


@check(
    ROW,
    "tls.cipher",
    "a forward-secret AEAD suite, no compression; no insufficient TLS 1.2 suite accepted",
    fix=TLS_FIX,
)
@https_only
def cipher(ctx: Context) -> Verdict:
    context = _client(ctx, verify=False)
    context.options &= ~ssl.OP_NO_COMPRESSION  # offer compression: a server must decline it
    sock, reason = _handshake(ctx, context)
    label = _label(ctx, "a modern client")
    if sock is None:
        return Verdict.not_checked("no TLS handshake", Evidence(label, None, reason))
    version, (suite, _, _), compression = (
        sock.version(),
        sock.cipher() or ("", "", 0),
        sock.compression(),
    )
    sock.close()
    good = _forward_secret_aead(version, suite) and compression is None
    evidence = [Evidence(label, None, f"{version} {suite}, compression {compression or 'none'}")]
    for what, ciphers, fails in WEAK_TLS12:
        label = _label(ctx, f"TLS 1.2 offering only {what}")
        try:
            weak = _client(
                ctx,
                low=ssl.TLSVersion.TLSv1_2,
                high=ssl.TLSVersion.TLSv1_2,
                ciphers=ciphers,
                verify=False,
            )
        except ssl.SSLError:
            evidence.append(Evidence(label, None, "this OpenSSL cannot offer them: not asked"))
            continue
        sock, reason = _handshake(ctx, weak)
        if sock is not None:
            good = good and not fails
            evidence.append(Evidence(label, None, f"accepted: {(sock.cipher() or ('?',))[0]}"))
            sock.close()
        else:
            if reason.startswith(NO_ANSWER):
                return Verdict.not_checked("the deployment stopped answering", *evidence)
            evidence.append(Evidence(label, None, f"refused: {reason}"))
    return Verdict.passed(*evidence) if good else Verdict.failed(*evidence)


@check(
    ROW,
    "tls.certificate",
    f"certificate chain valid, name matches, more than {MIN_DAYS_LEFT} days left",
    fix="the edge certificate (Cloudflare: SSL/TLS > Edge Certificates; docs/deploy.md#cloudflare) "
    "or your ACME renewal",
)
@https_only
def certificate(ctx: Context) -> Verdict:
    context = _client(ctx)
    sock, reason = _handshake(ctx, context)
    label = _label(ctx, "verifying chain and name")
    if sock is None:
        if reason.startswith(NO_ANSWER):
            return Verdict.not_checked(
                "the deployment did not answer", Evidence(label, None, reason)
            )
        return Verdict.failed(Evidence(label, None, reason))
    peer = sock.getpeercert() or {}
    sock.close()
    not_after = str(peer.get("notAfter", ""))
    if not not_after:
        return Verdict.failed(Evidence(label, None, "no expiry date in the certificate"))
    expires = dt.datetime.fromtimestamp(ssl.cert_time_to_seconds(not_after), dt.UTC)
    days = (expires - dt.datetime.now(dt.UTC)).days
    evidence = Evidence(
        label, None, f"valid for the name, expires {expires:%Y-%m-%d} ({days} days)"
    )
    return Verdict.passed(evidence) if days > MIN_DAYS_LEFT else Verdict.failed(evidence)
