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

CGNAT = ipaddress.ip_network("100.64.0.0/10")
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


def is_internal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return is_internal(address.ipv4_mapped)
    return (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or (isinstance(address, ipaddress.IPv4Address) and address in CGNAT)
    )


async def pin_target(url: str, allow_private: bool) -> PinnedTarget:
    """Check scheme and every resolved address; return a URL that connects to a checked IP."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CallbackBlockedError("only http(s) URLs with a host are allowed")
    host = parts.hostname
    if host.lower() in METADATA_HOSTS:
        raise CallbackBlockedError("metadata hosts are refused")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise CallbackBlockedError(f"cannot resolve host: {exc.strerror or exc}") from exc
    addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    if not addresses:
        raise CallbackBlockedError("host has no addresses")
    if not allow_private and any(is_internal(a) for a in addresses):
        raise CallbackBlockedError("host resolves to an internal address")
    chosen = addresses[0]
    literal = f"[{chosen}]" if chosen.version == 6 else str(chosen)
    netloc = f"{literal}:{parts.port}" if parts.port else literal
    host_header = parts.netloc.rsplit("@", 1)[-1]
    pinned = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    return PinnedTarget(pinned, host_header, host if parts.scheme == "https" else None)
