"""Each TLS check FAILs on a server with exactly one TLS mistake, and PASSes on one configured
like ``app serve --ssl-certfile`` (tests/scorecard/wrong_server.py serves both)."""

from __future__ import annotations

import datetime as dt
import ssl
from collections.abc import Callable
from pathlib import Path

import pytest
import trustme

from app.scorecard import tls
from app.scorecard.model import Status
from app.scorecard.registry import Verdict
from app.serve import TLS12_CIPHERS
from tests.scorecard.wrong_server import HOST, Tls, WrongServer, good
from tests.support import free_port

V = ssl.TLSVersion
Check = Callable[..., Verdict]


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def ca_path(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = Path(tmp_path_factory.mktemp("ca")) / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture(scope="module")
def cert(ca: trustme.CA) -> trustme.LeafCert:
    return ca.issue_cert(HOST)


def verdict(check: Check, server_tls: Tls, ca_path: str | None) -> Verdict:
    with WrongServer(lambda _m, _p: good(200), tls=server_tls) as server:
        ctx = server.context(ca_path)
        try:
            return check(ctx)
        finally:
            ctx.probe.close()


def right(cert: trustme.LeafCert) -> Tls:
    """What app/serve.py configures: TLS 1.2+ (Python's floor) and forward-secret AEAD suites."""
    return Tls(cert, ciphers=TLS12_CIPHERS)


@pytest.mark.checklist("C11", red="serve.py's TLS12_CIPHERS allows CBC, or a check misses it")
@pytest.mark.parametrize(
    "check", [tls.legacy_refused, tls.v13_offered, tls.cipher, tls.certificate]
)
def test_every_tls_check_passes_on_the_served_configuration(
    check: Check, cert: trustme.LeafCert, ca_path: str
) -> None:
    result = verdict(check, right(cert), ca_path)
    assert result.status is Status.PASS, result
    # The project's own suites are stricter than the check: not even a phase-out one is accepted.
    assert not [e for e in result.evidence if e.detail.startswith("accepted")], result.evidence


@pytest.mark.checklist("C11", red="tls.legacy_refused passes a server that speaks TLS 1.0/1.1")
@pytest.mark.parametrize("low", [V.TLSv1, V.TLSv1_1])
def test_legacy_protocols_accepted_fail(cert: trustme.LeafCert, ca_path: str, low: V) -> None:
    server = Tls(cert, low=low, ciphers="ALL:@SECLEVEL=0")
    result = verdict(tls.legacy_refused, server, ca_path)
    assert result.status is Status.FAIL, result
    assert any("accepted" in e.detail for e in result.evidence)


@pytest.mark.checklist("C11", red="tls.v13_offered passes a TLS 1.2-only server")
def test_no_tls13_fails(cert: trustme.LeafCert, ca_path: str) -> None:
    result = verdict(tls.v13_offered, Tls(cert, high=V.TLSv1_2, ciphers=TLS12_CIPHERS), ca_path)
    assert result.status is Status.FAIL, result


@pytest.mark.checklist("C11", red="tls.cipher ignores the negotiated suite or a NULL suite")
@pytest.mark.parametrize(
    ("key_type", "high", "ciphers"),
    [
        # TLS 1.2 only, and only CBC: what a modern client negotiates is not AEAD.
        (trustme.KeyType.ECDSA, V.TLSv1_2, "ECDHE+AES:!AESGCM:!AESCCM:!CHACHA20:@SECLEVEL=0"),
        # Modern suites first, but a client offering no encryption at all is served.
        (trustme.KeyType.RSA, V.TLSv1_3, f"{TLS12_CIPHERS}:eNULL:@SECLEVEL=0"),
    ],
)
def test_weak_suites_fail(
    ca: trustme.CA, ca_path: str, key_type: trustme.KeyType, high: V, ciphers: str
) -> None:
    server = Tls(ca.issue_cert(HOST, key_type=key_type), high=high, ciphers=ciphers)
    result = verdict(tls.cipher, server, ca_path)
    assert result.status is Status.FAIL, result


@pytest.mark.checklist("C11", red="tls.cipher stops reporting phase-out suites a server accepts")
def test_phase_out_suites_are_reported_not_failed(ca: trustme.CA, ca_path: str) -> None:
    # A Cloudflare zone without Advanced Certificate Manager still accepts CBC and static RSA.
    legacy = f"{TLS12_CIPHERS}:ECDHE+AES:AES128-GCM-SHA256:@SECLEVEL=0"
    server = Tls(ca.issue_cert(HOST, key_type=trustme.KeyType.RSA), ciphers=legacy)
    result = verdict(tls.cipher, server, ca_path)
    assert result.status is Status.PASS, result
    accepted = [e.request for e in result.evidence if e.detail.startswith("accepted")]
    assert len(accepted) == 2, result.evidence


@pytest.mark.checklist("C11", red="tls.certificate skips verification or the expiry margin")
def test_certificate_for_another_name_fails(ca: trustme.CA, ca_path: str) -> None:
    result = verdict(tls.certificate, right(ca.issue_cert("other.launchproof.test")), ca_path)
    assert result.status is Status.FAIL, result
    assert "certificate" in result.evidence[0].detail


@pytest.mark.checklist("C11", red="tls.certificate's 14-day margin removed")
def test_certificate_expiring_soon_fails(ca: trustme.CA, ca_path: str) -> None:
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(days=5)
    result = verdict(tls.certificate, right(ca.issue_cert(HOST, not_after=soon)), ca_path)
    assert result.status is Status.FAIL, result
    assert "days" in result.evidence[0].detail


@pytest.mark.checklist("C11", red="tls.certificate trusts any issuer")
def test_certificate_from_an_unknown_ca_fails(cert: trustme.LeafCert) -> None:
    result = verdict(tls.certificate, right(cert), None)  # the throwaway CA is not trusted
    assert result.status is Status.FAIL, result


@pytest.mark.checklist("C11", red="a TLS check passes by default when nothing answers")
@pytest.mark.parametrize(
    "check", [tls.legacy_refused, tls.v13_offered, tls.cipher, tls.certificate]
)
def test_nothing_listening_is_not_checked(check: Check) -> None:
    with WrongServer({}) as server:  # only for its context: aimed at a closed port below
        ctx = server.context(None, base_url=f"https://{HOST}:{free_port()}")
    result = check(ctx)
    ctx.probe.close()
    assert result.status is Status.NOT_CHECKED, result


@pytest.mark.checklist("C11", red="TLS checks pass a plain-http base URL")
def test_plain_http_base_url_fails() -> None:
    with WrongServer({}) as server:
        ctx = server.context(None)
        assert tls.certificate(ctx).status is Status.FAIL
        ctx.probe.close()
