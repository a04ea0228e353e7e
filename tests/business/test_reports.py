"""The turnover report reconciles with the ledger: after real pay-ins and pay-outs (one
disputed and settled at the actual amount), its totals equal sums taken straight from the
ledger's entries and from the orders the settle postings were written for; grouping,
granularity and CSV give the same figures; bad input is a 422 with a stable code and only
staff may read it."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import text, update
from sqlmodel import Session, col

from core.context import ServiceContext
from models.ledger import Posting
from models.orders import Order
from models.traders import Trader
from models.users import Role
from processing.reports.rollup import rebuild
from tests.factories import actor
from tests.money.fx_kit import USDT, put_rate
from tests.money.test_fx_settlement import usdt_parties
from tests.processing.conftest import StoreKit, TraderKit, make_trader, new_currency, payin_body
from tests.processing.payout_kit import (
    create_payout,
    fund_store,
    payout_store,
    take_and_pay,
    wait_payout,
)

pytestmark = pytest.mark.usefixtures("worker")
URL = "/api/admin/reports/turnover"
TODAY = dt.datetime.now(dt.UTC).date()
# One pay-in's postings are moved here: another day, ISO week and month than today's.
EARLIER = dt.datetime.combine(TODAY - dt.timedelta(days=35), dt.time(12), dt.UTC)


async def _payin(
    api: httpx.AsyncClient, store: dict[str, str], currency: str, trader: TraderKit, amount: str
) -> str:
    body = payin_body(currency, amount)
    order = await api.post("/api/gateway/payins", json=body, headers=store)
    assert order.status_code == 201, order.text
    oid = order.json()["id"]
    done = await api.post(f"/api/trader/orders/{oid}/confirm", headers=trader.headers)
    assert done.json()["status"] == "completed", done.text
    return str(oid)


async def _paid_payout(api: httpx.AsyncClient, store: StoreKit, trader: TraderKit) -> str:
    payout = await create_payout(api, store)
    oid = payout["id"]
    await wait_payout(api, store, oid, "created")
    await take_and_pay(api, trader, oid)
    return str(oid)


async def _business(api: httpx.AsyncClient, ctx: ServiceContext, admin: dict[str, str]) -> str:
    """Two merchants' stores in a fresh currency: each a pay-in and a pay-out; merchant B's
    pay-out disputed and resolved at 600.00 of 1000.00. Returns the currency."""
    currency = new_currency(ctx)
    trader = await make_trader(api, ctx, currency)
    with Session(ctx.engine) as session:
        profile = session.get(Trader, trader.trader_id)
        assert profile is not None
        profile.payout_enabled, profile.payout_reward_bps = True, 100
        session.add(profile)
        session.commit()
    a = payout_store(ctx, currency, payin_fee_bps=300)
    b = payout_store(ctx, currency, payin_fee_bps=200, payout_review_seconds=600)
    for store in (a, b):
        await fund_store(api, admin, store, "5000.00")
    ids = {"a_in": await _payin(api, a.headers, currency, trader, "1500.00")}
    ids["b_in"] = await _payin(api, b.headers, currency, trader, "700.00")
    ids["a_out"] = await _paid_payout(api, a, trader)
    await wait_payout(api, a, ids["a_out"], "completed")
    ids["b_out"] = await _paid_payout(api, b, trader)
    disputed = await api.post(
        f"/api/gateway/payouts/{ids['b_out']}/dispute",
        data={"reason": "the customer received 600.00 only"},
        headers=b.headers,
    )
    assert disputed.json()["status"] == "disputed", disputed.text
    resolved = await api.post(
        f"/api/admin/orders/{ids['b_out']}/resolve",
        json={"outcome": "completed", "actual_amount": "600.00", "reason": "bank statement"},
        headers=admin,
    )
    assert resolved.json()["status"] == "completed", resolved.text
    with Session(ctx.engine) as session:
        moved = update(Posting).where(col(Posting.order_id) == uuid.UUID(ids["b_in"]))
        session.execute(moved.values(created_at=EARLIER))
        session.commit()
    # Postings are never edited: their figures are in the report's daily rows already, so
    # moving one is a manual ledger fix, followed by the rebuild of the days it touched.
    rebuild(ctx.engine, EARLIER.date(), TODAY)
    return currency


def _ledger(ctx: ServiceContext, currency: str) -> dict[str, int]:
    """The oracle, in SQL of its own: profit-account entries and correction postings of the
    currency's orders; volume, fees and rewards as the orders say they settled."""
    joined = """FROM ledger_entries e
        JOIN ledger_postings p ON p.id = e.posting_id
        JOIN ledger_accounts a ON a.id = e.account_id
        JOIN orders o ON o.id = p.order_id
        WHERE o.currency = :c AND a.currency = :c"""
    queries = {
        "profit": f"SELECT SUM(e.amount_minor) {joined} AND a.kind = 'platform_profit'",
        "fees": f"""SELECT SUM(e.amount_minor) {joined} AND a.kind = 'platform_profit'
            AND p.kind <> 'correction' AND e.amount_minor > 0""",
        "rewards": f"""SELECT -SUM(e.amount_minor) {joined} AND a.kind = 'platform_profit'
            AND p.kind <> 'correction' AND e.amount_minor < 0""",
        "corrections_profit": f"""SELECT SUM(e.amount_minor) {joined}
            AND a.kind = 'platform_profit' AND p.kind = 'correction'""",
        "corrections_amount": f"""SELECT SUM(e.amount_minor) {joined}
            AND p.kind = 'correction' AND e.amount_minor > 0""",
        "corrections": f"SELECT COUNT(DISTINCT p.id) {joined} AND p.kind = 'correction'",
        "profit_balance": """SELECT balance_minor FROM ledger_accounts
            WHERE kind = 'platform_profit' AND currency = :c""",
        "volume": "SELECT SUM(amount_minor) FROM orders WHERE currency = :c",
        "order_fees": "SELECT SUM(fee_minor) FROM orders WHERE currency = :c",
        "order_rewards": "SELECT SUM(reward_minor) FROM orders WHERE currency = :c",
    }
    with Session(ctx.engine) as session:
        return {
            name: int(session.execute(text(sql), {"c": currency}).scalar() or 0)
            for name, sql in queries.items()
        }


def _minor(value: str) -> int:
    return int(Decimal(value) * 100)


async def test_report_reconciles_with_the_ledger(
    api: httpx.AsyncClient, ctx: ServiceContext
) -> None:
    admin_headers = (await actor(api, ctx.engine, Role.admin)).headers
    currency = await _business(api, ctx, admin_headers)
    params = {"from": str(TODAY - dt.timedelta(days=40)), "to": str(TODAY), "currency": currency}
    answer = await api.get(URL, params=params | {"granularity": "month"}, headers=admin_headers)
    assert answer.status_code == 200, answer.text
    report = answer.json()
    (total,) = report["totals"]
    ledger = _ledger(ctx, currency)
    for name in ("profit", "fees", "rewards", "corrections_profit", "corrections_amount"):
        assert _minor(total[name]) == ledger[name], name
    assert ledger["profit"] == ledger["profit_balance"]
    # What the settle postings were written from: each order's amount, fee and reward.
    assert _minor(total["volume"]) == ledger["volume"] == 1500_00 + 700_00 + 2 * 1000_00
    assert _minor(total["fees"]) == ledger["order_fees"] == 45_00 + 14_00 + 2 * 20_00
    assert _minor(total["rewards"]) == ledger["order_rewards"] == 15_00 + 7_00 + 2 * 10_00
    assert _minor(total["profit"]) == 45_00 + 14_00 + 40_00 - 42_00 - 4_00
    assert (total["orders"], total["disputes"], total["corrections"]) == (4, 1, 1)
    assert ledger["corrections"] == 1
    assert total["teamlead_shares"] == "0.00"
    # Month: the pay-in moved 35 days back is alone in its month.
    months = [(r["period"], r["orders"]) for r in report["rows"]]
    assert months == [(str(EARLIER.date().replace(day=1)), 1), (str(TODAY.replace(day=1)), 3)]

    by_group = await api.get(
        URL,
        params=params | {"group_by": "merchant,kind", "granularity": "week"},
        headers=admin_headers,
    )
    rows = by_group.json()["rows"]
    monday = str(TODAY - dt.timedelta(days=TODAY.weekday()))
    assert {r["period"] for r in rows} == {
        monday,
        str(EARLIER.date() - dt.timedelta(days=EARLIER.weekday())),
    }
    figures = {(r["group"]["kind"], r["volume"], r["fees"], r["corrections"]) for r in rows}
    assert figures == {
        ("payin", "1500.00", "45.00", 0),
        ("payin", "700.00", "14.00", 0),
        ("payout", "1000.00", "20.00", 0),
        ("payout", "1000.00", "20.00", 1),
    }
    assert len({r["group"]["merchant"] for r in rows}) == 2
    one = await api.get(
        URL, params=params | {"kind": "payout", "group_by": "store"}, headers=admin_headers
    )
    assert [r["orders"] for r in one.json()["rows"]] == [1, 1]

    # CSV: by format or by Accept, the same rows back through the csv module.
    for extra, headers in (({"format": "csv"}, {}), ({}, {"Accept": "text/csv"})):
        got = await api.get(
            URL,
            params=params | {"granularity": "month"} | extra,
            headers=admin_headers | headers,
        )
        assert got.headers["content-type"].startswith("text/csv"), got.text
        assert "filename=" in got.headers["content-disposition"]
        parsed = list(csv.DictReader(io.StringIO(got.text)))
        assert [{k: str(v) for k, v in r.items() if k != "group"} for r in report["rows"]] == parsed


async def test_parties_settling_in_usdt_count_at_the_order_amount(
    api: httpx.AsyncClient, ctx: ServiceContext
) -> None:
    admin = (await actor(api, ctx.engine, Role.admin)).headers
    currency = new_currency(ctx)
    assert (await put_rate(api, admin, USDT, currency, "95.10", "95.60")).is_success
    _, store_headers, trader = await usdt_parties(api, ctx, admin, currency)
    oid = await _payin(api, store_headers, currency, trader, "1234.57")
    params = {"currency": currency, "group_by": "kind", "to": str(TODAY)}
    rows = (await api.get(URL, params=params, headers=admin)).json()["rows"]
    with Session(ctx.engine) as session:
        order = session.get(Order, uuid.UUID(oid))
        assert order is not None and order.fee_minor and order.reward_minor
        fee, reward = order.fee_minor, order.reward_minor
    # Both parties' legs are in USDT; the row is in the order's currency, at its amount.
    assert [(r["currency"], r["volume"], r["orders"]) for r in rows] == [(currency, "1234.57", 1)]
    assert (_minor(rows[0]["fees"]), _minor(rows[0]["rewards"])) == (fee, reward)
    assert _minor(rows[0]["profit"]) == _ledger(ctx, currency)["profit"] == fee - reward


async def test_bad_input_and_other_roles(api: httpx.AsyncClient, ctx: ServiceContext) -> None:
    admin = await actor(api, ctx.engine, Role.admin)
    refusals = [
        ({"from": "2026-01-01", "to": "2027-01-02"}, 422, "report_range_too_long"),
        ({"from": "2026-03-02", "to": "2026-03-01"}, 422, "report_range_inverted"),
        ({"group_by": "merchant,planet"}, 422, "report_unknown_group"),
        ({"granularity": "year"}, 422, "validation_error"),
        # A date is YYYY-MM-DD only: not a Unix time (schemathesis sent `to=0`).
        ({"to": "0"}, 422, "validation_error"),
        ({"from": "2026-02-30"}, 422, "validation_error"),
    ]
    for params, status, code in refusals:
        answer = await api.get(URL, params=params, headers=admin.headers)
        assert (answer.status_code, answer.json()["error"]["code"]) == (status, code), params
    whole_year = await api.get(
        URL, params={"from": "2024-01-01", "to": "2024-12-31"}, headers=admin.headers
    )
    assert whole_year.status_code == 200, whole_year.text
    for role in (Role.merchant, Role.trader):
        other = await actor(api, ctx.engine, role)
        assert (await api.get(URL, headers=other.headers)).status_code == 403
    assert (await api.get(URL)).status_code == 401
