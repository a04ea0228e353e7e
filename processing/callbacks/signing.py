"""Outgoing webhook safety and signing (Standard Webhooks scheme).

The SSRF guard resolves the host once, refuses internal addresses, and the request is then
sent to that very address (Host header and TLS SNI keep the name), so DNS cannot be
re-pointed between the check and the connection.
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import secrets
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

from standardwebhooks.webhooks import Webhook

METADATA_HOSTS = {"metadata.google.internal", "metadata", "instance-data"}


class CallbackBlockedError(Exception):
    """The callback URL points somewhere we must not send requests."""


@dataclass(frozen=True)
class PinnedTarget:
    url: str  # the URL with the host replaced by the checked IP address
    host: str
    sni_hostname: str | None


def new_signing_secret() -> str:
    """`whsec_` + standard base64 of 32 random bytes, as Standard Webhooks defines it."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def sign(secret: str, event_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256 over "{id}.{timestamp}.{body}">`, signed by the official
    `standardwebhooks` package: the key is the base64-decoded part after `whsec_`, so any
    Standard Webhooks library verifies what we send."""
    moment = datetime.fromtimestamp(timestamp, UTC)
    return Webhook(secret).sign(msg_id=event_id, timestamp=moment, data=body.decode())


NAT64 = ipaddress.ip_network("64:ff9b::/96")


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, NAT64, Teredo client)."""
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if address.sixtofour:
        return address.sixtofour
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.teredo:
        return address.teredo[1]
    return None


def is_internal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Anything but a globally routable unicast address, including an internal IPv4 address
    wrapped in IPv6 (`::ffff:…`, 6to4 `2002::/16`, NAT64, Teredo)."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = embedded_ipv4(address)
        if inner is not None:
            return is_internal(inner)
    return not address.is_global or address.is_multicast


def checked_addresses(
    url: str, allow_private: bool
) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """Every address the URL's host resolves to, all of them allowed; CallbackBlockedError
    otherwise. Used when a URL is set and again, pinned, at each delivery."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CallbackBlockedError("only http(s) URLs with a host are allowed")
    host = parts.hostname
    if host.lower() in METADATA_HOSTS:
        raise CallbackBlockedError("metadata hosts are refused")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise CallbackBlockedError(f"cannot resolve host: {exc.strerror or exc}") from exc
    except UnicodeError as exc:  # a label the IDNA codec refuses (empty, over 63 characters)
        raise CallbackBlockedError("cannot resolve host: not a valid host name") from exc
    addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    if not addresses:
        raise CallbackBlockedError("host has no addresses")
    if not allow_private and any(is_internal(a) for a in addresses):
        raise CallbackBlockedError("host resolves to an internal address")
    return addresses


async def pin_target(url: str, allow_private: bool) -> PinnedTarget:
    """Check scheme and every resolved address; return a URL that connects to a checked IP."""
    addresses = await asyncio.to_thread(checked_addresses, url, allow_private)
    parts = urlsplit(url)
    host = parts.hostname or ""
    chosen = addresses[0]
    literal = f"[{chosen}]" if chosen.version == 6 else str(chosen)
    netloc = f"{literal}:{parts.port}" if parts.port else literal
    host_header = parts.netloc.rsplit("@", 1)[-1]
    pinned = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    return PinnedTarget(pinned, host_header, host if parts.scheme == "https" else None)
