"""A tiny authoritative DNS server on loopback for tests (dnslib, UDP and TCP on one port).

Usage::

    from tests.dns_server import LocalDNSServer

    zone = {
        "example.test": {"TXT": ["v=spf1 ip4:192.0.2.1 -all"], "A": ["192.0.2.1"]},
        "_dmarc.example.test": {"TXT": ["v=DMARC1; p=reject; rua=mailto:d@example.test"]},
        "www.example.test": {"CNAME": ["example.test"]},
    }
    with LocalDNSServer(zone) as dns:
        dns.host, dns.port        # "127.0.0.1", a free port (UDP and TCP)
        dns.nameserver            # "127.0.0.1:PORT", e.g. for `check-domain --nameserver`
        dns.resolver()            # a dnspython Resolver pointed at this server only
        dns.txt("example.test")   # convenience: TXT strings via that resolver
        dns.set("example.test", "TXT", ["v=spf1 -all"])  # replace records while running

Records: ``{name: {type: [value, ...]}}`` with types TXT, A, AAAA, CNAME (MX also accepted as
``"10 mx.example.test"``). Names are case-insensitive, a trailing dot is optional. A TXT value
longer than 255 bytes is split into several character-strings, as a real zone publishes a DKIM
key.
A name that is absent answers NXDOMAIN; a present name without the asked type answers NOERROR with
no data; a CNAME answers any type by its CNAME (one level, enough for tests). Everything is
synchronous and thread-backed, so it works from sync tests and while an app subprocess queries it.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any

import dns.resolver
from dnslib import AAAA, CNAME, MX, QTYPE, RCODE, RR, TXT, A, DNSRecord
from dnslib.server import BaseResolver, DNSLogger, DNSServer

Zone = Mapping[str, Mapping[str, Iterable[str]]]

_TTL = 60


def _norm(name: str) -> str:
    return name.rstrip(".").lower()


def _txt_chunks(value: str) -> list[bytes]:
    raw = value.encode()
    return [raw[i : i + 255] for i in range(0, len(raw), 255)] or [b""]


def _rdata(rtype: str, value: str) -> Any:
    if rtype == "TXT":
        return TXT(_txt_chunks(value))
    if rtype == "A":
        return A(value)
    if rtype == "AAAA":
        return AAAA(value)
    if rtype == "CNAME":
        return CNAME(value)
    if rtype == "MX":
        preference, _, exchange = value.partition(" ")
        return MX(exchange, int(preference))
    raise ValueError(f"unsupported record type {rtype}")


class _ZoneResolver(BaseResolver):  # type: ignore[misc]
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.records: dict[str, dict[str, list[str]]] = {}

    def resolve(self, request: DNSRecord, handler: Any) -> DNSRecord:  # noqa: ARG002
        reply = request.reply()
        qname = request.q.qname
        name = _norm(str(qname))
        qtype = QTYPE[request.q.qtype]
        with self.lock:
            entry = self.records.get(name)
            if entry is None:
                reply.header.rcode = RCODE.NXDOMAIN
                return reply
            if qtype != "CNAME" and "CNAME" in entry:
                target = entry["CNAME"][0]
                reply.add_answer(RR(qname, QTYPE.CNAME, rdata=CNAME(target), ttl=_TTL))
                for value in self.records.get(_norm(target), {}).get(qtype, []):
                    reply.add_answer(
                        RR(target, getattr(QTYPE, qtype), rdata=_rdata(qtype, value), ttl=_TTL)
                    )
                return reply
            for value in entry.get(qtype, []):
                reply.add_answer(
                    RR(qname, getattr(QTYPE, qtype), rdata=_rdata(qtype, value), ttl=_TTL)
                )
        return reply


class _QuietLogger(DNSLogger):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__(log="-request,-reply,-truncated,-recv,-send,-data", prefix=False)

    def log_error(self, handler: Any, e: Exception) -> None:  # pragma: no cover - debugging aid
        pass


class LocalDNSServer:
    """Serve ``zone`` on 127.0.0.1 (UDP + TCP, same free port) while the context is open."""

    host = "127.0.0.1"

    def __init__(self, zone: Zone | None = None) -> None:
        self._resolver = _ZoneResolver()
        for name, types in (zone or {}).items():
            for rtype, values in types.items():
                self.set(name, rtype, values)
        self.port = 0
        self._servers: list[DNSServer] = []

    # -- records -----------------------------------------------------------------------------
    def set(self, name: str, rtype: str, values: Iterable[str]) -> None:
        """Replace the ``rtype`` records of ``name`` (an empty list leaves the name existing)."""
        rtype = rtype.upper()
        values = [values] if isinstance(values, str) else list(values)
        for value in values:
            _rdata(rtype, value)  # validate early
        with self._resolver.lock:
            self._resolver.records.setdefault(_norm(name), {})[rtype] = values

    def remove(self, name: str) -> None:
        """Make ``name`` answer NXDOMAIN."""
        with self._resolver.lock:
            self._resolver.records.pop(_norm(name), None)

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> LocalDNSServer:
        for _ in range(20):
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
                probe.bind((self.host, 0))
                port = int(probe.getsockname()[1])
            try:
                udp = DNSServer(self._resolver, address=self.host, port=port, logger=_QuietLogger())
            except OSError:
                continue
            try:
                tcp = DNSServer(
                    self._resolver, address=self.host, port=port, tcp=True, logger=_QuietLogger()
                )
            except OSError:
                udp.server.server_close()
                continue
            self.port = port
            self._servers = [udp, tcp]
            for server in self._servers:
                server.start_thread()
            return self
        raise RuntimeError("no free loopback port for the test DNS server")

    def stop(self) -> None:
        for server in self._servers:
            server.stop()
            server.server.server_close()
        self._servers = []

    def __enter__(self) -> LocalDNSServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- clients -----------------------------------------------------------------------------
    @property
    def nameserver(self) -> str:
        return f"{self.host}:{self.port}"

    def resolver(self) -> dns.resolver.Resolver:
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [self.host]
        resolver.port = self.port
        resolver.timeout = resolver.lifetime = 2.0
        return resolver

    def txt(self, name: str) -> list[str]:
        """The TXT strings of ``name`` (character-strings joined), [] when none or NXDOMAIN."""
        try:
            answer = self.resolver().resolve(name, "TXT")
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return []
        return [b"".join(rdata.strings).decode() for rdata in answer]
