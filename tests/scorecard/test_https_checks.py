"""Each HTTPS/edge check FAILs on a server that gets exactly its one thing wrong (and PASSes on
one that gets it right), over real connections: tests/scorecard/wrong_server.py."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import trustme

from app.scorecard import https_edge
from app.scorecard.context import Context
from app.scorecard.model import Status
from app.scorecard.registry import Verdict
from tests.scorecard.wrong_server import (
    GOOD_HEADERS,
    HOST,
    Answer,
    Routes,
    Tls,
    WrongServer,
    good,
    without,
)
from tests.support import free_port

SECURITY_TXT = (
    b"Contact: mailto:security@launchproof.test\nExpires: "
    + (dt.datetime.now(dt.UTC) + dt.timedelta(days=90)).strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    + b"\n"
)
NO_FRAMES = "frame-ancestors 'none'"
TEXT = {"Content_Type": "text/plain"}


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def ca_path(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = Path(tmp_path_factory.mktemp("ca")) / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


class Served:
    """A TLS wrong server plus the Context that checks it."""

    def __init__(self, ca: trustme.CA, ca_path: str, routes: Routes, **options: object) -> None:
        self.server = WrongServer(routes, tls=Tls(ca.issue_cert(HOST)))
        self.ca_path = ca_path
        self.options = options

    def __enter__(self) -> Context:
        self.server.__enter__()
        return self.server.context(self.ca_path, **self.options)

    def __exit__(self, *exc: object) -> None:
        self.server.__exit__(None, None, None)


def verdict_on(
    ca: trustme.CA, ca_path: str, routes: Routes, check: str, **options: object
) -> Verdict:
    with Served(ca, ca_path, routes, **options) as ctx:
        verdict: Verdict = getattr(https_edge, check)(ctx)
        ctx.probe.close()
        return verdict


def everything_right(method: str, path: str) -> Answer:
    """The contract's four sample answers and a valid security.txt, all with the right headers."""
    del method
    answers = {
        "/healthz": good(200),
        "/v1/me": good(401),
        "/v1/auth/login": good(422),
        "/.well-known/security.txt": good(200, SECURITY_TXT, **TEXT),
    }
    return answers.get(path, good(404))


# --- redirect -------------------------------------------------------------------------------


def _plain(routes: Routes) -> WrongServer:
    return WrongServer(routes)


@pytest.mark.checklist("C11", red="https.redirect accepts 302/307, another host or no redirect")
@pytest.mark.parametrize(
    ("status", "location", "expected"),
    [
        (200, None, Status.FAIL),  # plain http served as is
        (302, "https://{host}/", Status.FAIL),  # temporary
        (301, "https://evil.example/", Status.FAIL),  # another host
        (301, "http://{host}/", Status.FAIL),  # not https
        (308, "https://{host}/?launchproof-check=1", Status.PASS),
        (301, "https://{host}/", Status.PASS),
    ],
)
def test_redirect(
    ca: trustme.CA, ca_path: str, status: int, location: str | None, expected: Status
) -> None:
    headers = {"Location": location.format(host=HOST)} if location else {}
    with _plain(lambda _m, _p: Answer(status, headers, b"")) as plain:
        verdict = verdict_on(ca, ca_path, everything_right, "redirect", http_url=plain.url)
    assert verdict.status is expected, verdict


@pytest.mark.checklist("C11", red="https.redirect passes when nothing answers on plain http")
def test_redirect_without_a_plain_listener_is_not_checked(ca: trustme.CA, ca_path: str) -> None:
    closed = f"http://{HOST}:{free_port()}"
    verdict = verdict_on(ca, ca_path, everything_right, "redirect", http_url=closed)
    assert verdict.status is Status.NOT_CHECKED
    assert "did not answer" in verdict.why


# --- HSTS, banner, headers ----------------------------------------------------------------------


@pytest.mark.checklist("C11", red="hsts_problems accepts a short max-age or no includeSubDomains")
@pytest.mark.parametrize(
    "hsts",
    [None, "max-age=300; includeSubDomains", "max-age=63072000", "includeSubDomains", "max-age=x"],
)
def test_hsts_fails(ca: trustme.CA, ca_path: str, hsts: str | None) -> None:
    answer = without(good(200), "Strict-Transport-Security")
    if hsts is not None:
        answer = good(200, Strict_Transport_Security=hsts)
    verdict = verdict_on(ca, ca_path, {"/healthz": answer}, "hsts")
    assert verdict.status is Status.FAIL, verdict


@pytest.mark.checklist("C11", red="banner_problems ignores a versioned Server or X-Powered-By")
@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"Server": "nginx/1.18.0"}, Status.FAIL),
        ({"X-Powered-By": "Express"}, Status.FAIL),
        ({"Server": "uvicorn 0.30"}, Status.FAIL),
        ({"Server": "cloudflare"}, Status.PASS),  # a name without a version tells nothing
    ],
)
def test_banner(ca: trustme.CA, ca_path: str, extra: dict[str, str], expected: Status) -> None:
    answer = Answer(200, {**GOOD_HEADERS, **extra})
    verdict = verdict_on(ca, ca_path, lambda _method, _path: answer, "banner")
    assert verdict.status is expected, verdict


@pytest.mark.checklist("C11", red="security_header_problems misses a header or an unsafe CSP")
@pytest.mark.parametrize(
    "broken",
    [
        without(good(404), "Content-Security-Policy"),
        good(
            404,
            Content_Security_Policy=f"default-src 'self' 'unsafe-inline'; {NO_FRAMES}",
        ),
        good(404, Content_Security_Policy=f"script-src 'self' 'unsafe-eval'; {NO_FRAMES}"),
        good(404, Content_Security_Policy="default-src 'none'"),  # no frame-ancestors
        without(good(404), "X-Content-Type-Options"),
        good(404, Referrer_Policy="unsafe-url"),
        without(good(404), "Referrer-Policy"),
        without(good(404), "Strict-Transport-Security"),
        good(404, Cross_Origin_Resource_Policy="cross-origin"),
        without(good(404), "Cross-Origin-Resource-Policy"),  # set on the others, not on 404
    ],
)
def test_security_headers_fail_when_the_404_is_wrong(
    ca: trustme.CA, ca_path: str, broken: Answer
) -> None:
    def routes(method: str, path: str) -> Answer:
        return everything_right(method, path) if path != "/launchproof-check-missing" else broken

    verdict = verdict_on(ca, ca_path, routes, "security_headers")
    assert verdict.status is Status.FAIL, verdict
    assert any(e.status in (404, None) and e.detail != "all present" for e in verdict.evidence)


@pytest.mark.checklist("C11", red="security_headers passes without asking 200/401/404/422")
def test_security_headers_pass_with_frame_ancestors_instead_of_x_frame_options(
    ca: trustme.CA, ca_path: str
) -> None:
    def routes(method: str, path: str) -> Answer:
        return without(everything_right(method, path), "X-Frame-Options")

    verdict = verdict_on(ca, ca_path, routes, "security_headers")
    assert verdict.status is Status.PASS, verdict
    assert sorted(e.status or 0 for e in verdict.evidence) == [200, 401, 404, 422]


# --- docs, security.txt ---------------------------------------------------------------------------


@pytest.mark.checklist("C11", red="docs_hidden does not ask /openapi.json, /docs or /redoc")
@pytest.mark.parametrize("path", ["/docs", "/redoc", "/openapi.json"])
def test_docs_served_fails(ca: trustme.CA, ca_path: str, path: str) -> None:
    verdict = verdict_on(ca, ca_path, {path: good(200)}, "docs_hidden")
    assert verdict.status is Status.FAIL, verdict


@pytest.mark.checklist("C11", red="security_txt passes a missing, expired or contactless file")
@pytest.mark.parametrize(
    "answer",
    [
        good(404),
        good(
            200,
            b"Contact: mailto:a@b.test\nExpires: 2020-01-01T00:00:00Z\n",
            **TEXT,
        ),
        good(200, b"Expires: 2999-01-01T00:00:00Z\n", **TEXT),
        good(200, b"Contact: mailto:a@b.test\n", **TEXT),
        good(200, SECURITY_TXT, Content_Type="text/html"),
    ],
)
def test_security_txt_fails(ca: trustme.CA, ca_path: str, answer: Answer) -> None:
    verdict = verdict_on(ca, ca_path, {"/.well-known/security.txt": answer}, "security_txt")
    assert verdict.status is Status.FAIL, verdict


@pytest.mark.checklist("C11", red="security_txt_problems accepts an Expires over a year ahead")
def test_security_txt_rules() -> None:
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    ok = "Contact: https://example.test/security\nExpires: 2026-06-01T00:00:00Z\n"
    assert https_edge.security_txt_problems(ok, now) == []
    far = "Contact: mailto:a@b.test\nExpires: 2028-01-01T00:00:00Z\n"
    assert https_edge.security_txt_problems(far, now)
    twice = ok + "Expires: 2026-05-01T00:00:00Z\n"
    assert https_edge.security_txt_problems(twice, now)
    assert https_edge.security_txt_problems("Contact: ftp://x\n" + ok, now)


# --- Cloudflare and the origin ---


@pytest.mark.checklist("C11", red="edge.cloudflare passes without cf-ray")
def test_cloudflare(ca: trustme.CA, ca_path: str) -> None:
    assert verdict_on(ca, ca_path, everything_right, "cloudflare").status is Status.NOT_CHECKED
    missing = verdict_on(ca, ca_path, everything_right, "cloudflare", expect_cloudflare=True)
    assert missing.status is Status.FAIL
    ray = {"/healthz": good(200, CF_Ray="8c0f0e0d0c0b0a09-AMS")}
    present = verdict_on(ca, ca_path, ray, "cloudflare", expect_cloudflare=True)
    assert present.status is Status.PASS


@pytest.mark.checklist("C11", red="edge.origin_hidden passes when the origin answers")
def test_origin_reachable_fails_and_unreachable_passes(ca: trustme.CA, ca_path: str) -> None:
    with _plain(lambda _m, _p: good(200)) as origin:
        reachable = verdict_on(
            ca, ca_path, everything_right, "origin_hidden", origin_url=origin.url
        )
    assert reachable.status is Status.FAIL
    closed = f"http://{HOST}:{free_port()}"
    hidden = verdict_on(ca, ca_path, everything_right, "origin_hidden", origin_url=closed)
    assert hidden.status is Status.PASS
    assert verdict_on(ca, ca_path, everything_right, "origin_hidden").status is Status.NOT_CHECKED
