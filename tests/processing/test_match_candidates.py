"""The match at realistic size: requisites of offline traders ranked ahead of an online one
(more than the match reads) do not hide it, and the match report still names them."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest
from sqlmodel import Session, col, select, update

from core.context import ServiceContext
from models.base import utcnow
from models.orders import Order
from models.traders import Requisite, Trader
from processing.orders import candidates
from tests.processing.conftest import TraderKit, make_store, make_trader, new_currency, payin_body


def go_offline(ctx: ServiceContext, *traders: TraderKit) -> None:
    with Session(ctx.engine) as session:
        ids = [t.trader_id for t in traders]
        session.exec(update(Trader).where(col(Trader.id).in_(ids)).values(is_online=False))
        session.commit()


def last_used(ctx: ServiceContext, trader: TraderKit, ago: timedelta) -> None:
    with Session(ctx.engine) as session:
        ids = trader.requisite_ids
        at = utcnow() - ago
        session.exec(update(Requisite).where(col(Requisite.id).in_(ids)).values(last_used_at=at))
        session.commit()


def requisite_of(ctx: ServiceContext, order_id: str) -> uuid.UUID | None:
    with Session(ctx.engine) as session:
        order = session.exec(select(Order).where(Order.id == uuid.UUID(order_id))).one()
        return order.requisite_id


async def test_offline_traders_ranked_first_do_not_hide_an_online_one(
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    worker: None,
    admin_headers: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The match reads 3 candidates; of one priority, 7 requisites of offline traders rank
    # first (used less recently), one after the online trader's.
    monkeypatch.setattr(candidates, "CANDIDATE_LIMIT", 3)
    monkeypatch.setattr(candidates, "REPORTED_EXCLUSIONS", 4)
    currency = new_currency(ctx)
    store = make_store(ctx, currency)
    offline = [await make_trader(api, ctx, currency, requisites=n) for n in (4, 3)]
    later = await make_trader(api, ctx, currency)
    online = await make_trader(api, ctx, currency)
    go_offline(ctx, *offline, later)
    for trader, ago in ((offline[0], 2), (offline[1], 3), (online, 1), (later, 0)):
        last_used(ctx, trader, timedelta(hours=ago, minutes=1))
    offline_ids = {str(r) for t in offline for r in t.requisite_ids}

    async def report(order_id: str) -> list[dict]:
        url = f"/api/admin/orders/{order_id}/match-report"
        answer = await api.get(url, headers=admin_headers)
        assert answer.status_code == 200, answer.text
        rejections: list[dict] = answer.json()["rejections"]
        return rejections

    created = await api.post(
        "/api/gateway/payins", json=payin_body(currency), headers=store.headers
    )
    assert created.status_code == 201, created.text
    order_id = created.json()["id"]
    assert requisite_of(ctx, order_id) == online.requisite_ids[0]
    # The report names the first four passed over and counts the other three (the one
    # ranked after the requisite taken was not passed over).
    passed_over = await report(order_id)
    assert [r["reason"] for r in passed_over[:4]] == ["trader_offline"] * 4
    assert {r["requisite_id"] for r in passed_over[:4]} <= offline_ids
    assert passed_over[4:] == [{"requisite_id": None, "reason": "trader_offline", "count": 3}]

    # The online trader goes offline too: nothing matches, and the report says why.
    go_offline(ctx, online)
    refused = await api.post(
        "/api/gateway/payins", json=payin_body(currency), headers=store.headers
    )
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "no_requisite"
    failed = await report(refused.json()["error"]["details"]["order_id"])
    assert [r["reason"] for r in failed[:4]] == ["trader_offline"] * 4
    assert failed[4:] == [{"requisite_id": None, "reason": "trader_offline", "count": 5}]
