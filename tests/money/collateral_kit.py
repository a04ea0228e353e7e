"""Trader collateral test building blocks: the administrator's deposit and minimum, what the
trader sees of themselves, pay-ins and their match reports, the auto-offline counter."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from core.metrics import registry
from tests.processing.conftest import StoreKit, TraderKit, payin_body

BELOW_MIN = "below_min_working_balance"


async def set_deposit(
    api: httpx.AsyncClient,
    admin: dict[str, str],
    trader: TraderKit,
    currency: str,
    amount: str | None,
) -> dict[str, Any]:
    response = await api.put(
        f"/api/admin/traders/{trader.trader_id}/security-deposit",
        json={"currency": currency, "amount": amount},
        headers=admin,
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def set_minimum(
    api: httpx.AsyncClient, admin: dict[str, str], currency: str, minor: int
) -> None:
    response = await api.put(
        "/api/admin/settings/min_working_balance", json={"value": {currency: minor}}, headers=admin
    )
    assert response.status_code == 200, response.text


async def me(api: httpx.AsyncClient, trader: TraderKit) -> dict[str, Any]:
    response = await api.get("/api/trader/me", headers=trader.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def top_up(
    api: httpx.AsyncClient, admin: dict[str, str], trader: TraderKit, currency: str, amount: str
) -> None:
    response = await api.post(
        f"/api/admin/traders/{trader.trader_id}/deposit",
        json={"amount": amount, "currency": currency, "reference": uuid.uuid4().hex},
        headers=admin,
    )
    assert response.status_code == 200, response.text


async def payin(api: httpx.AsyncClient, store: StoreKit, amount: str) -> httpx.Response:
    return await api.post(
        "/api/gateway/payins", json=payin_body(store.currency, amount), headers=store.headers
    )


async def report(api: httpx.AsyncClient, admin: dict[str, str], order_id: str) -> dict[str, Any]:
    response = await api.get(f"/api/admin/orders/{order_id}/match-report", headers=admin)
    assert response.status_code == 200, response.text
    return dict(response.json())


def reasons(report_body: dict[str, Any], trader: TraderKit) -> list[str]:
    """The match report's reasons for this trader's requisites."""
    ids = {str(r) for r in trader.requisite_ids}
    return [r["reason"] for r in report_body["rejections"] if r["requisite_id"] in ids]


def auto_offline_count() -> float:
    value = registry().get_sample_value("jivapay_trader_auto_offline_total", {"reason": BELOW_MIN})
    return value or 0.0


async def open_ids(api: httpx.AsyncClient, trader: TraderKit) -> set[str]:
    """The trader's open pay-ins: which trader an order went to, as the trader sees it."""
    response = await api.get("/api/trader/orders", headers=trader.headers)
    assert response.status_code == 200, response.text
    return {order["id"] for order in response.json()}
