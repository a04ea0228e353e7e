"""Trader collateral through the API, the worker and the ledger: the security deposit is
frozen from the balance, matching works on the working balance (balance − deposit − holds)
and says so in the match report, a trader below the minimum working balance is set offline by
the platform and comes back only by their own action once above it."""

from __future__ import annotations

import httpx
import pytest
from sqlmodel import Session

from core.context import ServiceContext
from models.traders import Trader
from tests.money.collateral_kit import (
    BELOW_MIN,
    auto_offline_count,
    me,
    open_ids,
    payin,
    reasons,
    report,
    set_deposit,
    set_minimum,
    top_up,
)
from tests.money.funds_kit import code_of, withdrawal_body
from tests.processing.conftest import make_store, make_trader, new_currency
from tests.processing.payout_kit import create_payout, fund_store, payout_store, payout_trader


async def test_matching_skips_a_trader_whose_working_balance_cannot_cover_the_order(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, admin_headers: dict[str, str]
) -> None:
    currency = new_currency(ctx)
    store = make_store(ctx, currency)
    first = await make_trader(api, ctx, currency, balance_minor=200_000)  # 2000.00
    second = await make_trader(api, ctx, currency, priority=200)  # tried after the first
    frozen = await set_deposit(api, admin_headers, first, currency, "1000.00")
    assert frozen | {"security_deposit": "1000.00", "working_balance": "1000.00"} == frozen
    assert frozen["security_deposit_source"] == "trader" and frozen["balance"] == "2000.00"

    # 2000.00 would cover 1500.00; the 1000.00 left once the deposit is frozen does not.
    matched = await payin(api, store, "1500.00")
    assert matched.status_code == 201, matched.text
    order = matched.json()
    assert order["id"] in await open_ids(api, second)
    assert reasons(await report(api, admin_headers, order["id"]), first) == ["working_balance"]
    mine = await me(api, first)
    assert (
        mine["collateral"][0] | {"held": "0.00", "working_balance": "1000.00"}
        == (mine["collateral"][0])
    )

    # Nobody's working balance covers it: the usual no-requisite refusal, with the reasons.
    await set_deposit(api, admin_headers, second, currency, "999998000.00")
    refused = await payin(api, store, "1500.00")
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "no_requisite"
    failed = await report(api, admin_headers, refused.json()["error"]["details"]["order_id"])
    assert reasons(failed, first) == ["working_balance"]
    assert reasons(failed, second) == ["working_balance"]

    # Back to the platform default (none): the first trader's whole balance works again.
    again = await set_deposit(api, admin_headers, first, currency, None)
    assert again["security_deposit"] == "0.00" and again["security_deposit_source"] == "platform"
    assert (await payin(api, store, "1500.00")).json()["id"] in await open_ids(api, first)


@pytest.mark.usefixtures("no_platform_overrides")
async def test_a_trader_below_the_minimum_goes_offline_and_comes_back_only_themselves(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, admin_headers: dict[str, str]
) -> None:
    currency = new_currency(ctx)
    store = make_store(ctx, currency)
    first = await make_trader(api, ctx, currency, balance_minor=300_000)  # 3000.00
    second = await make_trader(api, ctx, currency, priority=200)
    await set_minimum(api, admin_headers, currency, 200_000)  # 2000.00
    assert (await me(api, first))["is_online"] is True
    counted = auto_offline_count()

    # The hold leaves 1500.00 of the first trader's 3000.00 to work with: below 2000.00.
    taken = await payin(api, store, "1500.00")
    assert taken.json()["id"] in await open_ids(api, first)
    mine = await me(api, first)
    assert (mine["is_online"], mine["offline_reason"]) == (False, BELOW_MIN)
    assert mine["offline_since"]
    assert mine["collateral"] == [
        {
            "currency": currency,
            "balance": "3000.00",
            "security_deposit": "0.00",
            "security_deposit_source": "platform",
            "held": "1500.00",
            "working_balance": "1500.00",
            "min_working_balance": "2000.00",
        }
    ]
    assert auto_offline_count() == counted + 1
    audit = await api.get(f"/api/admin/audit?target_id={first.trader_id}", headers=admin_headers)
    entry = next(e for e in audit.json() if e["after"].get("offline_reason") == BELOW_MIN)
    assert entry["before"]["is_online"] is True and entry["after"]["is_online"] is False
    assert entry["after"]["working_balance_minor"] == 150_000

    # Offline, they are not matched; the other trader is, and stays online.
    later = await payin(api, store, "1500.00")
    assert later.json()["id"] in await open_ids(api, second)
    assert reasons(await report(api, admin_headers, later.json()["id"]), first) == [
        "trader_offline"
    ]
    assert (await me(api, second))["is_online"] is True

    # Going online below the minimum is refused, and changes nothing.
    refused = await api.post("/api/trader/online", headers=first.headers)
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert error["code"] == BELOW_MIN
    assert error["details"] == {
        "currency": currency,
        "working_balance": "1500.00",
        "min_working_balance": "2000.00",
    }
    assert (await me(api, first))["offline_reason"] == BELOW_MIN

    # A top-up lifts them over the minimum; they stay offline until they go online.
    await top_up(api, admin_headers, first, currency, "1000.00")
    assert (await me(api, first))["is_online"] is False
    online = await api.post("/api/trader/online", headers=first.headers)
    assert online.status_code == 200, online.text
    assert (online.json()["is_online"], online.json()["offline_reason"]) == (True, None)
    assert auto_offline_count() == counted + 1


@pytest.mark.usefixtures("no_platform_overrides")
async def test_a_raised_deposit_sets_the_trader_offline_and_refuses_their_take(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, admin_headers: dict[str, str]
) -> None:
    currency = new_currency(ctx)
    store = payout_store(ctx, currency)
    await fund_store(api, admin_headers, store, "5000.00")
    trader = await payout_trader(api, ctx, currency)
    other = await payout_trader(api, ctx, currency)
    await top_up(api, admin_headers, trader, currency, "3000.00")
    await top_up(api, admin_headers, other, currency, "500.00")
    await set_minimum(api, admin_headers, currency, 100_000)  # 1000.00
    # A new minimum reaches every trader at once: the other one's 500.00 is below it.
    assert (await me(api, other))["offline_reason"] == BELOW_MIN
    assert (await me(api, trader))["is_online"] is True
    counted = auto_offline_count()

    # 3000.00 − 2500.00 frozen leaves 500.00: below the minimum, offline at once.
    frozen = await set_deposit(api, admin_headers, trader, currency, "2500.00")
    assert frozen["working_balance"] == "500.00"
    mine = await me(api, trader)
    assert (mine["is_online"], mine["offline_reason"]) == (False, BELOW_MIN)
    assert auto_offline_count() == counted + 1
    audit = (
        await api.get(f"/api/admin/audit?target_id={trader.trader_id}", headers=admin_headers)
    ).json()
    assert any(e["after"].get("offline_reason") == BELOW_MIN for e in audit)

    # Lowered to 1500.00: 1500.00 works, over the minimum; online by their own action.
    await set_deposit(api, admin_headers, trader, currency, "1500.00")
    assert (await api.post("/api/trader/online", headers=trader.headers)).status_code == 200
    # A pay-out of 2000.00 exceeds the working balance: the take is refused, nothing moves.
    payout = await create_payout(api, store, "2000.00")
    take = await api.post(f"/api/trader/payouts/{payout['id']}/take", headers=trader.headers)
    assert take.status_code == 409, take.text
    assert take.json()["error"]["code"] == "insufficient_working_balance"
    small = await create_payout(api, store, "1000.00")
    taken = await api.post(f"/api/trader/payouts/{small['id']}/take", headers=trader.headers)
    assert taken.status_code == 200, taken.text
    with Session(ctx.engine) as session:
        row = session.get(Trader, trader.trader_id)
        assert row is not None and row.is_online


async def test_bad_deposits_are_refused_and_change_nothing(
    api: httpx.AsyncClient, ctx: ServiceContext, admin_headers: dict[str, str]
) -> None:
    currency = new_currency(ctx)
    trader = await make_trader(api, ctx, currency, balance_minor=100_000)
    await set_deposit(api, admin_headers, trader, currency, "100.00")
    url = f"/api/admin/traders/{trader.trader_id}/security-deposit"
    cases = [
        (url, {"currency": currency, "amount": "-5.00"}, admin_headers, 422, "validation_error"),
        (url, {"currency": currency, "amount": "1.005"}, admin_headers, 422, "invalid_amount"),
        (url, {"currency": "QQQ", "amount": "1.00"}, admin_headers, 422, "unknown_currency"),
        (url, {"currency": currency, "amount": "1.00"}, trader.headers, 403, None),
        (
            "/api/admin/traders/00000000-0000-4000-8000-000000000000/security-deposit",
            {"currency": currency, "amount": "1.00"},
            admin_headers,
            404,
            "trader_not_found",
        ),
    ]
    for path, body, headers, status, code in cases:
        response = await api.put(path, json=body, headers=headers)
        assert response.status_code == status, (body, response.text)
        if code:
            assert response.json()["error"]["code"] == code, response.text
    bad_setting = await api.put(
        "/api/admin/settings/min_working_balance",
        json={"value": {currency: -1}},
        headers=admin_headers,
    )
    assert bad_setting.status_code == 422, bad_setting.text
    shown = await api.get(
        f"/api/admin/traders/{trader.trader_id}/collateral", headers=admin_headers
    )
    assert [(c["security_deposit"], c["working_balance"]) for c in shown.json()] == [
        ("100.00", "900.00")
    ]


@pytest.mark.usefixtures("no_platform_overrides")
async def test_the_platform_default_deposit_applies_where_the_trader_has_none(
    api: httpx.AsyncClient, ctx: ServiceContext, admin_headers: dict[str, str]
) -> None:
    currency = new_currency(ctx)
    before = await make_trader(api, ctx, currency, balance_minor=100_000)
    own = await make_trader(api, ctx, currency, balance_minor=100_000)
    await set_deposit(api, admin_headers, own, currency, "0")
    url = "/api/admin/settings/security_deposit_default"
    put = await api.put(url, json={"value": {currency: 30_000}}, headers=admin_headers)
    assert put.status_code == 200, put.text
    after = await make_trader(api, ctx, currency, balance_minor=100_000)  # a new account

    for kit in (before, after):
        collateral = (await me(api, kit))["collateral"][0]
        assert (collateral["security_deposit"], collateral["working_balance"]) == (
            "300.00",
            "700.00",
        )
        assert collateral["security_deposit_source"] == "platform"
    assert (await me(api, own))["collateral"][0]["security_deposit"] == "0.00"
    assert (await api.delete(url, headers=admin_headers)).status_code == 200
    assert (await me(api, before))["collateral"][0]["security_deposit"] == "0.00"


@pytest.mark.usefixtures("no_platform_overrides")
async def test_a_withdrawal_never_touches_the_deposit_and_one_below_the_minimum_sets_offline(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, admin_headers: dict[str, str]
) -> None:
    currency = new_currency(ctx)
    trader = await make_trader(api, ctx, currency, requisites=0, balance_minor=100_000)  # 1000.00
    other = await make_trader(api, ctx, currency, requisites=0, balance_minor=100_000)
    await set_deposit(api, admin_headers, trader, currency, "900.00")
    await set_minimum(api, admin_headers, currency, 5_000)  # 50.00
    sent = withdrawal_body(currency, "200.00")  # + 2.00 fee, against a working balance of 100.00
    refused = await api.post("/api/trader/withdrawals", json=sent, headers=trader.headers)
    assert refused.status_code == 422 and code_of(refused) == "insufficient_balance"
    assert (await me(api, trader))["is_online"] is True

    before = auto_offline_count()
    fits = withdrawal_body(currency, "60.00")  # + 0.60: 39.40 left, below the 50.00 minimum
    made = await api.post("/api/trader/withdrawals", json=fits, headers=trader.headers)
    assert made.status_code == 201, made.text
    mine = await me(api, trader)
    assert (mine["is_online"], mine["offline_reason"]) == (False, BELOW_MIN)
    assert mine["collateral"][0]["working_balance"] == "39.40"
    assert auto_offline_count() == before + 1
    # The same withdrawal by a trader with no deposit leaves them well above the minimum.
    other_made = await api.post("/api/trader/withdrawals", json=fits, headers=other.headers)
    assert other_made.status_code == 201, other_made.text
    assert (await me(api, other))["is_online"] is True
