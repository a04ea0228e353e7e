"""One address, however it is written: an IPv4 address sent as IPv4-mapped IPv6
(`::ffff:203.0.113.7`) or in upper case hits the same block-list entry and velocity count, and
is stored in one form. Each test uses addresses of its own (block lists are global)."""

from __future__ import annotations

import ipaddress
import secrets
import uuid

import httpx
from sqlmodel import Session

from core.context import ServiceContext
from models.fraud import BlockKind, BlockListEntry
from models.orders import Order
from processing.risk.fraud import legacy_ip_fingerprint
from tests.processing.conftest import make_store, make_trader, new_currency, payin_body
from tests.processing.payout_kit import create_rule


def fresh_ipv4() -> str:
    """A documentation-range address no other test blocks."""
    return f"198.18.{secrets.randbelow(256)}.{secrets.randbelow(254) + 1}"


async def _payin(
    api: httpx.AsyncClient, store_headers: dict[str, str], currency: str, ip: str
) -> httpx.Response:
    return await api.post(
        "/api/gateway/payins", json=payin_body(currency, customer_ip=ip), headers=store_headers
    )


async def test_a_blocked_address_is_blocked_however_it_is_written(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, admin_headers: dict[str, str]
) -> None:
    currency = new_currency(ctx)
    store = make_store(ctx, currency)
    await make_trader(api, ctx, currency, requisites=3)
    plain, mapped_entry = fresh_ipv4(), fresh_ipv4()
    for value in (plain, f"::FFFF:{mapped_entry}"):
        blocked = await api.post(
            "/api/admin/fraud/block-list",
            json={"kind": "ip", "value": value},
            headers=admin_headers,
        )
        assert blocked.status_code == 201, blocked.text
    # The entry made from a mapped address is labelled (and audited) as the IPv4 address.
    assert blocked.json()["label"] == mapped_entry
    again = await api.post(
        "/api/admin/fraud/block-list",
        json={"kind": "ip", "value": f"::ffff:{plain}"},
        headers=admin_headers,
    )
    assert (again.status_code, again.json()["error"]["code"]) == (409, "already_blocked")
    for ip in (f"::ffff:{plain}", mapped_entry):
        denied = await _payin(api, store.headers, currency, ip)
        assert (denied.status_code, denied.json()["error"]["code"]) == (422, "fraud_denied"), ip
    with Session(ctx.engine) as session:
        order = session.get(Order, uuid.UUID(denied.json()["error"]["details"]["order_id"]))
        assert order is not None and order.customer_ip == mapped_entry


async def test_velocity_counts_one_address_however_it_is_written(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, admin_headers: dict[str, str]
) -> None:
    currency = new_currency(ctx)
    store = make_store(ctx, currency)
    await make_trader(api, ctx, currency, requisites=3)
    await create_rule(
        api,
        admin_headers,
        name="1 per address",
        kind="velocity",
        action="deny",
        store_id=str(store.store_id),
        velocity_key="ip",
        velocity_limit=1,
        window_seconds=3600,
    )
    ip = fresh_ipv4()
    first = await _payin(api, store.headers, currency, ip)
    assert first.status_code == 201, first.text
    second = await _payin(api, store.headers, currency, f"::ffff:{ip}")
    assert second.json()["error"]["code"] == "fraud_denied"
    v6 = f"2001:db8::{secrets.randbelow(0xFFFF):x}"
    assert (await _payin(api, store.headers, currency, v6)).status_code == 201
    spelled = str(ipaddress.IPv6Address(v6).exploded).upper()
    assert (await _payin(api, store.headers, currency, spelled)).json()["error"][
        "code"
    ] == "fraud_denied"


async def test_an_entry_stored_before_addresses_were_canonical_still_blocks(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None
) -> None:
    """Entries made from a mapped address were fingerprinted as Python printed it
    (`::ffff:c612:…`): screening looks them up too, so no stored block is lost."""
    currency = new_currency(ctx)
    store = make_store(ctx, currency)
    await make_trader(api, ctx, currency)
    ip = fresh_ipv4()
    legacy = str(ipaddress.ip_address(f"::ffff:{ip}"))
    old_fingerprint = legacy_ip_fingerprint(ctx.settings.fingerprint_secret, ip)
    assert old_fingerprint is not None
    with Session(ctx.engine) as session:
        session.add(BlockListEntry(kind=BlockKind.ip, fingerprint=old_fingerprint, label=legacy))
        session.commit()
    denied = await _payin(api, store.headers, currency, ip)
    assert denied.json()["error"]["code"] == "fraud_denied", denied.text
