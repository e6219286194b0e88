"""Which IP addresses an outbound request may reach, and every spelling of an IPv4 literal.

``blocked_reason(address)`` answers for one address. It is deliberately independent of the
Python version: ``ipaddress``'s ``is_global`` has changed between releases (3.11 calls multicast,
``fec0::/10`` and ``64:ff9b::7f00:1`` global), so the IANA special-purpose ranges are listed here
explicitly and ``is_global`` is only a second net underneath. IPv6 forms that carry an IPv4
address (IPv4-mapped, NAT64 ``64:ff9b::/96``, 6to4 ``2002::/16``) are judged by the IPv4 address
they carry; IPv4-compatible ``::a.b.c.d`` (deprecated by RFC 4291) is refused outright; any other
IPv6 address must be global unicast (``2000::/3``).

It does not know a deployment's own public addresses (a load balancer's public IP that routes
back into the private network): internal services must not listen on public addresses without
their own authentication.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

IPAddress = IPv4Address | IPv6Address


def _v4(*entries: tuple[str, str]) -> tuple[tuple[IPv4Network, str], ...]:
    return tuple((IPv4Network(net), label) for net, label in entries)


def _v6(*entries: tuple[str, str]) -> tuple[tuple[IPv6Network, str], ...]:
    return tuple((IPv6Network(net), label) for net, label in entries)


# IANA IPv4 Special-Purpose Address Registry, plus cloud metadata services.
BLOCKED_V4 = _v4(
    ("0.0.0.0/8", "this_network"),
    ("10.0.0.0/8", "private"),
    ("100.64.0.0/10", "shared"),  # CGNAT; also Alibaba Cloud metadata 100.100.100.200
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link_local"),  # AWS/GCP/Azure/OCI 169.254.169.254, ECS 169.254.170.2
    ("172.16.0.0/12", "private"),
    ("192.0.0.0/24", "ietf_protocol"),  # includes Oracle Cloud's 192.0.0.192
    ("192.0.2.0/24", "documentation"),
    ("192.88.99.0/24", "relay_anycast"),
    ("192.168.0.0/16", "private"),
    ("198.18.0.0/15", "benchmarking"),
    ("198.51.100.0/24", "documentation"),
    ("203.0.113.0/24", "documentation"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),  # includes the limited broadcast 255.255.255.255
    ("168.63.129.16/32", "metadata"),  # Azure WireServer: platform service on a public address
)

# IANA IPv6 Special-Purpose Address Registry entries that sit inside 2000::/3 (everything
# outside 2000::/3 is refused anyway), plus the ones outside it, listed for their labels.
BLOCKED_V6 = _v6(
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("::/96", "ipv4_compatible"),
    ("64:ff9b:1::/48", "nat64_local"),
    ("100::/64", "discard"),
    ("2001::/23", "ietf_protocol"),  # Teredo 2001::/32, ORCHID, benchmarking 2001:2::/48
    ("2001:db8::/32", "documentation"),
    ("3fff::/20", "documentation"),
    ("5f00::/16", "srv6"),
    ("fc00::/7", "unique_local"),  # includes AWS metadata fd00:ec2::254
    ("fe80::/10", "link_local"),
    ("fec0::/10", "site_local"),
    ("ff00::/8", "multicast"),
)

GLOBAL_UNICAST_V6 = IPv6Network("2000::/3")
NAT64_WELL_KNOWN = IPv6Network("64:ff9b::/96")
SIX_TO_FOUR = IPv6Network("2002::/16")


def embedded_ipv4(address: IPv6Address) -> IPv4Address | None:
    """The IPv4 address an IPv4-mapped, NAT64 (64:ff9b::/96) or 6to4 address leads to."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in NAT64_WELL_KNOWN:
        return IPv4Address(int(address) & 0xFFFFFFFF)
    if address in SIX_TO_FOUR:
        return address.sixtofour
    return None


def blocked_reason(address: IPAddress) -> str | None:
    """Why ``address`` may not be reached, or None when it is a public unicast address."""
    if isinstance(address, IPv6Address):
        inner = embedded_ipv4(address)
        if inner is not None:
            reason = blocked_reason(inner)
            return None if reason is None else f"embedded_{reason}"
        for net6, label in BLOCKED_V6:
            if address in net6:
                return label
        if address not in GLOBAL_UNICAST_V6:
            return "not_global_unicast"
    else:
        for net4, label in BLOCKED_V4:
            if address in net4:
                return label
    if address.is_multicast:
        return "multicast"
    if not address.is_global:
        return "not_global"
    return None


def is_blocked(address: IPAddress) -> bool:
    return blocked_reason(address) is not None


# --- IPv4 literals in every spelling ---------------------------------------------------------
#
# ``ipaddress`` only accepts canonical dotted-decimal, on purpose. Browsers (the WHATWG URL
# standard) and libc's inet_aton, which getaddrinfo uses for numeric hosts, also accept
# ``2130706433``, ``0x7f.1``, ``0177.0.0.1`` and ``127.1``. ``socket.inet_aton`` would parse
# them but is platform-dependent and accepts trailing garbage on some libcs; no maintained PyPI
# library implements the WHATWG host parser. So the WHATWG IPv4 parser (URL Standard, "IPv4
# parser" and "ends in a number checker") is written out below; tests cross-check it against
# inet_aton.

_RADIX_DIGITS = {10: "0123456789", 8: "01234567", 16: "0123456789abcdef"}


def _ipv4_number(part: str) -> int | None:
    if not part:
        return None
    if part[:2].lower() == "0x":
        digits, radix = part[2:].lower(), 16
    elif len(part) > 1 and part[0] == "0":
        digits, radix = part[1:], 8
    else:
        digits, radix = part, 10
    if not digits:
        return 0  # "0x" alone is zero in the URL standard
    if any(char not in _RADIX_DIGITS[radix] for char in digits):
        return None
    return int(digits, radix)


def _labels(host: str) -> list[str]:
    labels = host.split(".")
    if len(labels) > 1 and labels[-1] == "":
        labels.pop()
    return labels


def ends_in_number(host: str) -> bool:
    """True when a URL parser would treat ``host`` as an IPv4 address (or reject it as one)."""
    last = _labels(host)[-1]
    return bool(last) and (last.isascii() and last.isdigit() or _ipv4_number(last) is not None)


def parse_ipv4(host: str) -> IPv4Address:
    """Parse any legacy IPv4 spelling (1 to 4 parts, each decimal, octal or hex)."""
    parts = _labels(host)
    if len(parts) > 4:
        raise ValueError("too many parts")
    numbers = [_ipv4_number(part) for part in parts]
    valid = [number for number in numbers if number is not None]
    if len(valid) != len(numbers):
        raise ValueError("not a number")
    *leading, last = valid
    if any(number > 255 for number in leading) or last >= 256 ** (5 - len(valid)):
        raise ValueError("out of range")
    value = last
    for index, number in enumerate(leading):
        value += number << (8 * (3 - index))
    return IPv4Address(value)
