"""Which DNS resolver outbound requests use: the system's, or (development/test) a named server.

``OUTBOUND_DNS_SERVER=127.0.0.1:5353`` sends every outbound lookup to that server through
dnspython's async resolver, so a test can serve hostile answers (a public-looking name that
resolves to ``127.0.0.1``) and watch the guard refuse it at request time. Production refuses
the setting (``Settings.production_problems``), and this module refuses it there too.
"""

from __future__ import annotations

import dns.asyncresolver
import dns.exception
import dns.rdatatype
import dns.resolver

from app.core.config import Environment, Settings
from app.core.outbound.targets import Resolver, system_resolver


def resolver_for(settings: Settings) -> Resolver:
    """The resolver outbound HTTP uses under ``settings``."""
    if settings.outbound_dns_server is None:
        return system_resolver
    if settings.environment is Environment.PRODUCTION:
        raise RuntimeError("OUTBOUND_DNS_SERVER is refused in production")
    host, _, port = settings.outbound_dns_server.rpartition(":")
    return _server_resolver(host, int(port))


def _server_resolver(host: str, port: int) -> Resolver:
    async def resolve(name: str, _port: int) -> list[str]:
        resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.nameservers = [host]
        resolver.port = port
        resolver.lifetime = 5.0
        answers: list[str] = []
        for rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
            try:
                answer = await resolver.resolve(name, rdtype, search=False)
            except (dns.resolver.NoAnswer, dns.resolver.NXDOMAIN):
                continue
            except dns.exception.DNSException as exc:
                # targets._resolve turns OSError into a DNS_FAILED refusal.
                raise OSError(f"DNS lookup failed: {type(exc).__name__}") from None
            answers.extend(rdata.to_text() for rdata in answer)
        return answers

    return resolve
