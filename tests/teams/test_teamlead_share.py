"""The team lead's share in settlement: its own leg, out of the trader's reward, on the
lead's own ledger account; every posting sums to zero per currency; the share is the one
fixed when the trader got the order (a later change of the team's share does not touch it);
a dispute settled at another amount corrects the share with the reward."""

from __future__ import annotations

import uuid
from decimal import Decimal

import httpx
from sqlmodel import Session, select

from core.context import ServiceContext
from models.ledger import AccountKind, Entry, LedgerAccount, Posting
from models.orders import Order
from processing.ledger.fx import convert
from tests.money.fx_kit import USDT, account, posting_sums, put_rate
from tests.processing.conftest import make_store, make_trader, new_currency, payin_body
from tests.processing.payout_kit import (
    create_payout,
    fund_store,
    payout_store,
    payout_trader,
    wait_payout,
)
from tests.teams.team_kit import make_team

FUNDS = 100_000_000


async def _payin(
    api: httpx.AsyncClient, headers: dict[str, str], currency: str, amount: str
) -> str:
    created = await api.post(
        "/api/gateway/payins", json=payin_body(currency, amount), headers=headers
    )
    assert created.status_code == 201 and created.json()["status"] == "awaiting_payment", (
        created.text
    )
    return str(created.json()["id"])


async def _confirm(api: httpx.AsyncClient, admin: dict[str, str], order_id: str) -> None:
    done = await api.post(f"/api/admin/orders/{order_id}/confirm", headers=admin)
    assert done.status_code == 200 and done.json()["status"] == "completed", done.text


def lead_entries(ctx: ServiceContext, order_id: str) -> dict[str, int]:
    """The lead's entry in each posting of the order, by posting kind."""
    with Session(ctx.engine) as session:
        rows = session.exec(
            select(Posting.kind, Entry.amount_minor)
            .join(Entry, Entry.posting_id == Posting.id)  # type: ignore[arg-type]
            .join(LedgerAccount, LedgerAccount.id == Entry.account_id)  # type: ignore[arg-type]
            .where(
                Posting.order_id == uuid.UUID(order_id),
                LedgerAccount.kind == AccountKind.teamlead,
            )
        ).all()
    return dict(rows)


async def test_the_lead_gets_the_share_fixed_on_the_payin(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, admin_headers: dict[str, str]
) -> None:
    currency = new_currency(ctx)
    store = make_store(ctx, currency, payin_fee_bps=300)
    trader = await make_trader(api, ctx, currency, balance_minor=FUNDS)  # reward 1 %
    team = await make_team(api, ctx, admin_headers, [trader.trader_id], share_bps=2500)
    lead_id = team.lead.user_id

    first = await _payin(api, store.headers, currency, "1500.00")
    # The share changes while the first order is open: it keeps the one it fixed.
    changed = await api.patch(
        f"/api/admin/teams/{team.team_id}", json={"share_bps": 5000}, headers=admin_headers
    )
    assert changed.status_code == 200, changed.text
    await _confirm(api, admin_headers, first)
    # Reward 15.00, a quarter of it the lead's: trader −1500 + 15 − 3.75, lead +3.75.
    assert account(ctx, AccountKind.teamlead, lead_id, currency) == (375, 0)
    assert account(ctx, AccountKind.trader, trader.trader_id, currency) == (
        FUNDS - 150_000 + 1_500 - 375,
        0,
    )
    assert account(ctx, AccountKind.store, store.store_id, currency) == (150_000 - 4_500, 0)
    # The platform's profit is fee − reward, whatever the lead gets of the reward.
    assert account(ctx, AccountKind.platform_profit, None, currency) == (4_500 - 1_500, 0)
    assert posting_sums(ctx, uuid.UUID(first)) == {"payin_settle": {currency: 0}}
    assert lead_entries(ctx, first) == {"payin_settle": 375}

    # The next order fixes the new share; a dispute settled at 600.00 corrects it too.
    second = await _payin(api, store.headers, currency, "1000.00")
    with Session(ctx.engine) as session:
        order = session.get(Order, uuid.UUID(second))
        assert order is not None
        assert (order.teamlead_id, order.teamlead_share_bps, order.teamlead_share_minor) == (
            lead_id,
            5000,
            500,
        )
    opened = await api.post(
        f"/api/admin/orders/{second}/dispute", json={"reason": "short"}, headers=admin_headers
    )
    assert opened.status_code == 200, opened.text
    resolved = await api.post(
        f"/api/admin/orders/{second}/resolve",
        json={"outcome": "completed", "actual_amount": "600.00", "reason": "statement"},
        headers=admin_headers,
    )
    assert resolved.status_code == 200, resolved.text
    # Reward on 600.00 is 6.00, half of it the lead's: 3.00 (5.00 posted, −2.00 corrected).
    assert lead_entries(ctx, second) == {"payin_settle": 500, "correction": -200}
    assert posting_sums(ctx, uuid.UUID(second)) == {
        "payin_settle": {currency: 0},
        "correction": {currency: 0},
    }
    assert account(ctx, AccountKind.teamlead, lead_id, currency) == (375 + 300, 0)
    me = (await api.get("/api/teamlead/me", headers=team.lead.headers)).json()
    assert [(e["currency"], e["balance"]) for e in me["earnings"]] == [(currency, "6.75")]
    stats = (await api.get("/api/teamlead/stats", headers=team.lead.headers)).json()["rows"]
    assert [(r["completed"], r["completed_volume"], r["disputed"]) for r in stats] == [
        (2, "2100.00", 1)
    ]


async def test_the_lead_gets_a_share_of_a_payout_reward(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, admin_headers: dict[str, str]
) -> None:
    currency = new_currency(ctx)
    store = payout_store(ctx, currency)  # fee 2 %, no review window
    await fund_store(api, admin_headers, store, "5000.00")
    trader = await payout_trader(api, ctx, currency)  # reward 1 %
    team = await make_team(api, ctx, admin_headers, [trader.trader_id], share_bps=2500)
    payout = await create_payout(api, store, "1000.00")
    taken = await api.post(f"/api/trader/payouts/{payout['id']}/take", headers=trader.headers)
    assert taken.status_code == 200, taken.text
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    paid = await api.post(
        f"/api/trader/payouts/{payout['id']}/paid",
        files={"proof": ("p.png", png, "image/png")},
        headers=trader.headers,
    )
    assert paid.status_code == 200, paid.text
    await wait_payout(api, store, payout["id"], "completed")
    # Trader +1000 + 10 − 2.50, lead +2.50; the store pays 1000 + 20.
    assert account(ctx, AccountKind.teamlead, team.lead.user_id, currency) == (250, 0)
    assert account(ctx, AccountKind.trader, trader.trader_id, currency) == (101_000 - 250, 0)
    assert posting_sums(ctx, uuid.UUID(payout["id"])) == {"payout_settle": {currency: 0}}


async def test_a_usdt_traders_lead_is_paid_in_the_order_currency(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, admin_headers: dict[str, str]
) -> None:
    currency = new_currency(ctx)
    assert (await put_rate(api, admin_headers, USDT, currency, "95.10", "95.60")).is_success
    store = make_store(ctx, currency, payin_fee_bps=300)
    trader = await make_trader(api, ctx, currency, balance_minor=0)
    path = f"/api/admin/traders/{trader.trader_id}"
    moved = await api.put(
        f"{path}/settlement-currency", json={"currency": USDT}, headers=admin_headers
    )
    assert moved.status_code == 200, moved.text
    funded = await api.post(
        f"{path}/deposit",
        json={"amount": "1000.000000", "currency": USDT, "reference": "lead"},
        headers=admin_headers,
    )
    assert funded.status_code == 200, funded.text
    team = await make_team(api, ctx, admin_headers, [trader.trader_id], share_bps=2500)

    order_id = await _payin(api, store.headers, currency, "1234.57")
    await _confirm(api, admin_headers, order_id)
    with Session(ctx.engine) as session:
        order = session.get(Order, uuid.UUID(order_id))
        assert order is not None and order.trader_rate is not None
        rate = Decimal(order.trader_rate)

    def usdt(minor: int) -> int:
        return convert(minor, 2, 6, rate)

    amount, reward = 123_457, 1_235  # 1 % of 1234.57, half up
    share = 309  # 25 % of 12.35, half up
    assert account(ctx, AccountKind.teamlead, team.lead.user_id, currency) == (share, 0)
    assert account(ctx, AccountKind.teamlead, team.lead.user_id, USDT) == (0, 0)
    expected = 1_000_000_000 - usdt(amount) + usdt(reward - share)
    assert account(ctx, AccountKind.trader, trader.trader_id, USDT) == (expected, 0)
    assert posting_sums(ctx, uuid.UUID(order_id)) == {"payin_settle": {currency: 0, USDT: 0}}
