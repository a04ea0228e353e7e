"""One written form per IP address, for everything that stores, compares or counts by one:
fraud block lists and velocity keys, rate-limit keys, orders' `customer_ip`.

`::ffff:203.0.113.7` is 203.0.113.7 reached over IPv6 (an IPv4-mapped address); written
either way it must hit the same block-list entry and the same counters.
"""

from __future__ import annotations

import ipaddress


def canonical_ip(value: str) -> str:
    """The address in its one form: an IPv4-mapped IPv6 address as the IPv4 address, IPv6
    compressed and in lower case. ValueError when `value` is not an address (a zone such as
    `fe80::1%eth0` names an interface of the sender's, not a host, and is refused too)."""
    address = ipaddress.ip_address(value)
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id is not None:
            raise ValueError(f"{value!r} carries a zone")
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
    return str(address)


def client_address(host: str | None) -> str:
    """A connection's client address as a key: canonical when it is an address, "-" when
    unknown, else as given (a Unix socket's peer, a test client's name)."""
    if not host:
        return "-"
    try:
        return canonical_ip(host)
    except ValueError:
        return host
