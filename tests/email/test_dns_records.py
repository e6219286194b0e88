"""C10: the records infra/dns/ tells operators to publish pass ``check-domain`` as written.

The zone file is parsed (dnslib), its placeholder key replaced by a real one, served from a DNS
server on loopback, and checked; the Terraform twin must carry the same record values.
"""

from __future__ import annotations

import re

import pytest
from dnslib import RR

from app.email.domain_check import check_domain, make_resolver
from tests.dns_server import LocalDNSServer
from tests.email.keys import dkim_record, private_key, private_pem
from tests.support import ROOT

pytestmark = pytest.mark.checklist(
    "C10",
    red="publish an SPF, DKIM or DMARC record in infra/dns/ that check-domain fails, or let the "
    "Terraform records differ from the zone file",
)

DNS = ROOT / "infra" / "dns"


def zone_records() -> dict[str, dict[str, list[str]]]:
    zone: dict[str, dict[str, list[str]]] = {}
    for record in RR.fromZone((DNS / "email-records.zone").read_text()):
        text = b"".join(record.rdata.data).decode()
        zone.setdefault(str(record.rname), {}).setdefault("TXT", []).append(text)
    return zone


def test_the_published_records_pass_check_domain() -> None:
    zone = zone_records()
    dkim_name = "lp2026._domainkey.example.com."
    assert zone[dkim_name]["TXT"] == ["v=DKIM1; k=rsa; p=PUBLIC_KEY_BASE64"]  # a placeholder
    zone[dkim_name]["TXT"] = [dkim_record(private_key())]
    with LocalDNSServer(zone) as dns:
        results = check_domain(
            "example.com",
            selector="lp2026",
            private_key_pem=private_pem(private_key()).encode(),
            resolver=make_resolver(dns.nameserver),
        )
    assert all(result.ok for result in results), [result.line() for result in results]


def test_terraform_publishes_the_same_values() -> None:
    # The Terraform for the whole edge publishes them (infra/cloudflare/, provider v5: `content`).
    terraform = (DNS.parent / "cloudflare" / "email_dns.tf").read_text()
    values = re.findall(r'content\s*=\s*"(.*)"', terraform)
    substituted = {
        value.replace("${var.smtp_relay_ipv4}", "192.0.2.10")
        .replace("${var.dmarc_rua}", "dmarc-reports@example.com")
        .replace("${var.dkim_public_key_base64}", "PUBLIC_KEY_BASE64")
        for value in values
    }
    published = {text for types in zone_records().values() for text in types["TXT"]}
    assert substituted == published
