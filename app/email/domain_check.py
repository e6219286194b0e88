"""``check-domain DOMAIN``: is the sending domain set up so platform mail is trusted?

Reads the SPF, DKIM (``<selector>._domainkey``) and DMARC (``_dmarc``) TXT records with
dnspython and reports, per check, pass or fail with the reasons:

* SPF: exactly one ``v=spf1`` record, ending in ``-all`` or ``~all`` (through ``redirect=``),
  at most 10 DNS-querying terms (include, a, mx, ptr, exists, redirect; RFC 7208 section 4.6.4),
  counted recursively through includes and redirects.
* DKIM: a key record, RSA, at least 2048 bits, and the public half of the configured
  ``DKIM_PRIVATE_KEY`` (a record for another key makes every signature fail).
* DMARC: exactly one ``v=DMARC1`` record with ``p=quarantine`` or ``p=reject`` and a ``rua``
  aggregate-report address.

Hand-written rather than checkdmarc: its lookups ignore a custom nameserver for some records and
it pulls a large dependency tree; the rules above are short, and tests pin them to a local DNS.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field

import dns.exception
import dns.resolver
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import (
    load_der_public_key,
    load_pem_private_key,
)

MAX_SPF_LOOKUPS = 10
MIN_DKIM_BITS = 2048
_LOOKUP_TERMS = ("include", "a", "mx", "ptr", "exists")


@dataclass
class CheckResult:
    name: str
    ok: bool
    reasons: list[str] = field(default_factory=list)

    def line(self) -> str:
        return f"{'PASS' if self.ok else 'FAIL'} {self.name}: " + "; ".join(self.reasons)


class LookupFailed(Exception):
    """The DNS server did not answer (timeout, SERVFAIL): not the same as "no record"."""


def make_resolver(nameserver: str | None, timeout: float = 3.0) -> dns.resolver.Resolver:
    """The system resolver, or only ``IP[:PORT]`` / ``[IPv6]:PORT`` (staging, tests on loopback)."""
    if nameserver is None:
        resolver = dns.resolver.Resolver()
    else:
        if nameserver.startswith("["):
            host, _, rest = nameserver[1:].partition("]")
            port = rest.removeprefix(":")
        elif nameserver.count(":") == 1:
            host, _, port = nameserver.partition(":")
        else:
            host, port = nameserver, ""
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [host]
        resolver.port = int(port) if port else 53
    resolver.timeout = resolver.lifetime = timeout
    return resolver


def txt_records(resolver: dns.resolver.Resolver, name: str) -> list[str]:
    """TXT strings of ``name`` (character-strings of one record joined); [] when none."""
    try:
        answer = resolver.resolve(name, "TXT")
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    except dns.exception.DNSException as exc:
        raise LookupFailed(f"DNS lookup of {name} failed ({type(exc).__name__})") from None
    return [b"".join(rdata.strings).decode("utf-8", "replace") for rdata in answer]


def _spf_records(resolver: dns.resolver.Resolver, domain: str) -> list[str]:
    return [
        record
        for record in txt_records(resolver, domain)
        if record.lower() == "v=spf1" or record.lower().startswith("v=spf1 ")
    ]


@dataclass
class _SpfWalk:
    resolver: dns.resolver.Resolver
    lookups: int = 0
    problems: list[str] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)

    def walk(self, domain: str) -> str | None:
        """Count lookups under ``domain``'s record; return its final ``all`` qualifier."""
        if domain in self.seen:
            self.problems.append(f"SPF include loop at {domain}")
            return None
        self.seen.add(domain)
        records = _spf_records(self.resolver, domain)
        if len(records) != 1:
            self.problems.append(f"{domain} (included) has {len(records)} SPF records")
            return None
        return self.terms(records[0].split()[1:])

    def terms(self, terms: list[str]) -> str | None:
        final: str | None = None
        redirect: str | None = None
        for term in terms:
            lowered = term.lower()
            qualifier = lowered[0] if lowered[:1] in "+-~?" else "+"
            mechanism = lowered.lstrip("+-~?")
            name, _, value = mechanism.partition(":")
            if mechanism == "all":
                final = qualifier
            elif name.split("/")[0] in _LOOKUP_TERMS:
                self.lookups += 1
                if name == "include" and value:
                    self.walk(value)
            elif mechanism.startswith("redirect="):
                self.lookups += 1
                redirect = mechanism.partition("=")[2]
        if final is None and redirect:
            return self.walk(redirect)
        return final


def check_spf(resolver: dns.resolver.Resolver, domain: str) -> CheckResult:
    records = _spf_records(resolver, domain)
    if not records:
        return CheckResult("SPF", False, [f"no SPF record at {domain}"])
    if len(records) > 1:
        return CheckResult(
            "SPF", False, [f"{len(records)} SPF records (exactly one allowed: receivers permerror)"]
        )
    walk = _SpfWalk(resolver, seen={domain})
    final = walk.terms(records[0].split()[1:])
    reasons = list(walk.problems)
    if final not in ("-", "~"):
        shown = {"+": "+all", "?": "?all"}.get(final or "", "no all")
        reasons.append(f"ends in {shown}: must end in -all or ~all")
    if walk.lookups > MAX_SPF_LOOKUPS:
        reasons.append(f"{walk.lookups} DNS lookups (limit {MAX_SPF_LOOKUPS})")
    if reasons:
        return CheckResult("SPF", False, reasons)
    return CheckResult(
        "SPF",
        True,
        [f"one record, ends in {final}all, {walk.lookups} of {MAX_SPF_LOOKUPS} DNS lookups"],
    )


def _tags(record: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    for part in record.split(";"):
        key, sep, value = part.strip().partition("=")
        if sep:
            tags[key.strip().lower()] = "".join(value.split())
    return tags


def check_dkim(
    resolver: dns.resolver.Resolver, domain: str, selector: str, private_key_pem: bytes | None
) -> CheckResult:
    name = f"{selector}._domainkey.{domain}"
    records = [r for r in txt_records(resolver, name) if "p=" in r]
    if not records:
        return CheckResult("DKIM", False, [f"no DKIM record at {name}"])
    if len(records) > 1:
        return CheckResult("DKIM", False, [f"{len(records)} DKIM records at {name}"])
    tags = _tags(records[0])
    if tags.get("k", "rsa").lower() != "rsa":
        return CheckResult("DKIM", False, [f"key type k={tags['k']} (RSA required)"])
    if not tags.get("p"):
        return CheckResult("DKIM", False, [f"the key at {name} is revoked (empty p=)"])
    try:
        public = load_der_public_key(base64.b64decode(tags["p"], validate=True))
    except ValueError:
        return CheckResult("DKIM", False, [f"the key at {name} does not parse"])
    if not isinstance(public, rsa.RSAPublicKey):
        return CheckResult("DKIM", False, ["not an RSA key"])
    reasons: list[str] = []
    if public.key_size < MIN_DKIM_BITS:
        reasons.append(f"{public.key_size}-bit key (at least {MIN_DKIM_BITS} required)")
    if private_key_pem is None:
        match_note = "not compared with a private key (DKIM_PRIVATE_KEY is not configured)"
    else:
        private = load_pem_private_key(private_key_pem, password=None)
        if not isinstance(private, rsa.RSAPrivateKey) or (
            private.public_key().public_numbers() != public.public_numbers()
        ):
            reasons.append(f"the key at {name} does not match the configured private key")
        match_note = "matches the configured private key"
    if reasons:
        return CheckResult("DKIM", False, reasons)
    return CheckResult("DKIM", True, [f"RSA {public.key_size}-bit key at {name}", match_note])


def check_dmarc(resolver: dns.resolver.Resolver, domain: str) -> CheckResult:
    name = f"_dmarc.{domain}"
    records = [r for r in txt_records(resolver, name) if r.lower().startswith("v=dmarc1")]
    if not records:
        return CheckResult("DMARC", False, [f"no DMARC record at {name}"])
    if len(records) > 1:
        return CheckResult("DMARC", False, [f"{len(records)} DMARC records at {name}"])
    tags = _tags(records[0])
    reasons: list[str] = []
    policy = tags.get("p", "").lower()
    if policy not in ("quarantine", "reject"):
        reasons.append(f"policy p={policy or '(missing)'} (quarantine or reject required)")
    rua = tags.get("rua", "")
    if not any(uri.lower().startswith("mailto:") for uri in rua.split(",") if uri):
        reasons.append("no rua reporting address (rua=mailto:...)")
    if reasons:
        return CheckResult("DMARC", False, reasons)
    return CheckResult("DMARC", True, [f"p={policy}, reports to {rua}"])


def check_domain(
    domain: str,
    *,
    selector: str,
    private_key_pem: bytes | None,
    resolver: dns.resolver.Resolver,
) -> list[CheckResult]:
    """Every check, in order; a DNS failure fails the check it happened in, with its reason."""
    domain = domain.strip().rstrip(".").lower()
    results: list[CheckResult] = []
    runs: tuple[tuple[str, Callable[[], CheckResult]], ...] = (
        ("SPF", lambda: check_spf(resolver, domain)),
        ("DKIM", lambda: check_dkim(resolver, domain, selector, private_key_pem)),
        ("DMARC", lambda: check_dmarc(resolver, domain)),
    )
    for name, run in runs:
        try:
            results.append(run())
        except LookupFailed as exc:
            results.append(CheckResult(name, False, [str(exc)]))
    return results
