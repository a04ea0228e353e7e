"""Exchange rates: an administrator sets them (validated, audited), the provider's schedule
fetches them from the bundled emulator, and the public list is served with an ETag. Bad
input is a 4xx with a stable code and changes nothing."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlmodel import Session
from temporalio.client import Client, ScheduleActionStartWorkflow
from temporalio.testing import ActivityEnvironment

from activities.processing import ProcessingActivities
from contracts.rates import RATES_WORKFLOW, RatesRefreshInput
from core.context import ServiceContext
from models.base import utcnow
from models.ledger import AccountKind
from models.rates import ExchangeRate
from models.users import Role
from processing.ledger.fx import convert
from processing.platform.rates import RateUnavailable, convert_now
from processing.platform.rates_schedule import ensure_rates_schedule
from tests.factories import actor
from tests.money.fx_kit import USDT, account, put_rate
from tests.processing.conftest import make_store, make_trader, new_currency, payin_body
from workflows.rates import RatesRefreshWorkflow

EMULATOR_ADMIN = {"X-Emulator-Admin": "emulator-admin"}


async def rates_of(api: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    listed = await api.get("/api/admin/rates", headers=headers)
    assert listed.status_code == 200, listed.text
    return listed.json()


async def test_an_admin_sets_a_rate_and_bad_ones_change_nothing(
    api: httpx.AsyncClient, ctx: ServiceContext, admin_headers: dict[str, str]
) -> None:
    currency = new_currency(ctx)
    set_ = await put_rate(api, admin_headers, USDT, currency, "95.10", "95.60", max_age_s=600)
    assert set_.status_code == 200, set_.text
    assert set_.json() | {"fetched_at": None} == {
        "base": USDT,
        "quote": currency,
        "buy": "95.10",
        "sell": "95.60",
        "source": "manual",
        "fetched_at": None,
        "max_age_s": 600,
        "stale": False,
    }
    before = await rates_of(api, admin_headers)
    refusals = [
        (("0", "1"), "validation_error"),
        (("-1", "1"), "validation_error"),
        (("1", "0.0"), "validation_error"),
        (("abc", "1"), "validation_error"),
        (("96", "95"), "validation_error"),  # sell below buy
    ]
    for (buy, sell), code in refusals:
        refused = await put_rate(api, admin_headers, USDT, currency, buy, sell)
        assert refused.status_code == 422 and refused.json()["error"]["code"] == code, (buy, sell)
    pairs = [("QQQQ", currency, "unknown_currency"), (USDT, USDT, "invalid_pair")]
    for base, quote, code in pairs:
        refused = await put_rate(api, admin_headers, base, quote, "1", "2")
        assert refused.status_code == 422 and refused.json()["error"]["code"] == code
    lower = await put_rate(api, admin_headers, "usdt", currency, "1", "2")
    assert lower.status_code == 422
    merchant = await actor(api, ctx.engine, Role.merchant)
    forbidden = await put_rate(api, merchant.headers, USDT, currency, "1", "2")
    assert forbidden.status_code == 403
    assert await rates_of(api, admin_headers) == before

    audit = await api.get(
        "/api/admin/audit", params={"target_id": f"{USDT},{currency}"}, headers=admin_headers
    )
    entries = audit.json()
    assert [e["action"] for e in entries] == ["PUT /api/admin/rates/{base}/{quote}"]
    assert entries[0]["after"]["sell"] == "95.60"

    removed = await api.delete(f"/api/admin/rates/{USDT}/{currency}", headers=admin_headers)
    assert removed.status_code == 204
    gone = await api.delete(f"/api/admin/rates/{USDT}/{currency}", headers=admin_headers)
    assert gone.status_code == 422 and gone.json()["error"]["code"] == "unknown_pair"


async def test_settlement_currency_and_amount_precision_are_checked(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, admin_headers: dict[str, str]
) -> None:
    currency = new_currency(ctx)
    store = make_store(ctx, currency)
    trader = await make_trader(api, ctx, currency, balance_minor=0)
    path = f"/api/admin/stores/{store.store_id}/settlement-currency"
    unknown = await api.put(path, json={"currency": "QQQQ"}, headers=admin_headers)
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "unknown_currency"
    shape = await api.put(path, json={"currency": "usdt"}, headers=admin_headers)
    assert shape.status_code == 422
    missing = await api.put(
        f"/api/admin/stores/{uuid.uuid4()}/settlement-currency",
        json={"currency": USDT},
        headers=admin_headers,
    )
    assert missing.status_code == 404
    reset = await api.put(path, json={"currency": None}, headers=admin_headers)
    assert reset.status_code == 200 and reset.json()["settlement_currency"] is None

    deposit = f"/api/admin/traders/{trader.trader_id}/deposit"
    for amount, currency_code in (("1.1234567", USDT), ("1.123", currency)):
        refused = await api.post(
            deposit,
            json={"amount": amount, "currency": currency_code, "reference": amount},
            headers=admin_headers,
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["code"] == "invalid_amount"
    ok = await api.post(
        deposit,
        json={"amount": "1.123456", "currency": USDT, "reference": "six"},
        headers=admin_headers,
    )
    assert ok.status_code == 200 and ok.json()["balance"] == "1.123456"
    assert account(ctx, AccountKind.trader, trader.trader_id, currency) == (0, 0)
    payin = await api.post(
        "/api/gateway/payins", json=payin_body(currency, "10.001"), headers=store.headers
    )
    assert payin.status_code == 422 and payin.json()["error"]["code"] == "invalid_amount"


async def test_the_provider_schedule_fetches_the_emulators_rates(
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    worker: None,
    temporal_client: Client,
    bank_emulator: str,
    admin_headers: dict[str, str],
) -> None:
    currency = new_currency(ctx)
    async with httpx.AsyncClient() as emulator:
        moved = await emulator.put(
            f"{bank_emulator}/admin/rates/{USDT}/{currency}",
            json={"buy": "101.5", "sell": "102.25"},
            headers=EMULATOR_ADMIN,
        )
        assert moved.status_code == 204, moved.text
        refused = await emulator.put(
            f"{bank_emulator}/admin/rates/{USDT}/{currency}", json={"buy": "1", "sell": "2"}
        )
        assert refused.status_code == 403

    async def refresh() -> list[str]:
        result = await temporal_client.execute_workflow(
            RatesRefreshWorkflow.run,
            RatesRefreshInput("test"),
            id=f"refresh-rates-test-{uuid.uuid4()}",
            task_queue=ctx.settings.temporal_task_queue,
        )
        return result.pairs

    assert f"{USDT}/{currency}" in await refresh()
    pair = [r for r in await rates_of(api, admin_headers) if r["quote"] == currency]
    assert [(r["buy"], r["sell"], r["source"], r["stale"]) for r in pair] == [
        ("101.5", "102.25", "provider", False)
    ]
    # A manual rate is the administrator's: the provider does not overwrite it.
    assert (await put_rate(api, admin_headers, USDT, currency, "99", "100")).is_success
    assert f"{USDT}/{currency}" not in await refresh()
    pair = [r for r in await rates_of(api, admin_headers) if r["quote"] == currency]
    assert [(r["buy"], r["source"]) for r in pair] == [("99", "manual")]


async def test_the_public_rates_list_has_an_etag(
    api: httpx.AsyncClient, ctx: ServiceContext, admin_headers: dict[str, str]
) -> None:
    currency = new_currency(ctx)
    assert (await put_rate(api, admin_headers, USDT, currency, "10", "11")).is_success
    first = await api.get("/api/reference/rates")
    assert first.status_code == 200
    assert {"base": USDT, "quote": currency} in [
        {"base": r["base"], "quote": r["quote"]} for r in first.json()
    ]
    etag = first.headers["ETag"]
    same = await api.get("/api/reference/rates", headers={"If-None-Match": etag})
    assert same.status_code == 304 and same.headers["ETag"] == etag
    # A changed rate is seen at once (its writer drops the cached list).
    assert (await put_rate(api, admin_headers, USDT, currency, "10", "12")).is_success
    changed = await api.get("/api/reference/rates", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_conversions_round_half_up_in_the_targets_minor_units() -> None:
    # 1.50 at 1:1 into a currency without decimals: 2 (and −2 for a debit).
    assert convert(150, 2, 0, Decimal(1)) == 2
    assert convert(-150, 2, 0, Decimal(1)) == -2
    assert convert(149, 2, 0, Decimal(1)) == 1
    # 1234.57 at 96.078 per USDT: 12.8496…→ 12.849664 (six places).
    assert convert(123_457, 2, 6, Decimal("96.078")) == 12_849_664


async def test_every_worker_ensures_the_rates_schedule(
    temporal_client: Client, ctx: ServiceContext, worker: None
) -> None:
    queue = ctx.settings.temporal_task_queue
    schedule_id = await ensure_rates_schedule(temporal_client, queue, every_s=60)
    # Ensuring again (a second worker, a new interval) replaces the definition, no error.
    assert await ensure_rates_schedule(temporal_client, queue, every_s=30) == schedule_id
    handle = temporal_client.get_schedule_handle(schedule_id)
    described = await handle.describe()
    # The suite's worker must not keep fetching on a schedule the test made.
    await handle.delete()
    action, spec = described.schedule.action, described.schedule.spec
    assert isinstance(action, ScheduleActionStartWorkflow)
    assert (action.workflow, action.task_queue) == (RATES_WORKFLOW, queue)
    assert [interval.every for interval in spec.intervals] == [timedelta(seconds=30)]


def test_an_amount_converts_at_the_fresh_rate(ctx: ServiceContext) -> None:
    currency = new_currency(ctx)
    with Session(ctx.engine) as session:
        with pytest.raises(RateUnavailable):
            convert_now(session, 100, source=USDT, target=currency, side="credit")
        session.add(
            ExchangeRate(
                base=USDT,
                quote=currency,
                buy="90",
                sell="92",
                source="manual",
                fetched_at=utcnow(),
                max_age_s=60,
            )
        )
        session.commit()
        # 1.000000 USDT credited in the fiat: the platform buys USDT at 90 (inverse pair).
        assert convert_now(session, 1_000_000, source=USDT, target=currency, side="credit") == (
            9_000,
            "0.011111111111",
        )
        assert convert_now(session, 9_200, source=currency, target=USDT, side="credit") == (
            1_000_000,
            "92",
        )


async def test_an_unreachable_provider_is_one_failed_run_and_the_stored_rates_stay(
    api: httpx.AsyncClient, ctx: ServiceContext, admin_headers: dict[str, str]
) -> None:
    currency = new_currency(ctx)
    assert (await put_rate(api, admin_headers, USDT, currency, "99", "100")).is_success
    # A port nothing listens on: the run answers what went wrong, it does not raise (each
    # raise was an activity retry with a traceback, every minute, for as long as it lasted).
    nowhere = ctx.settings.model_copy(update={"rates_provider_url": "http://127.0.0.1:9/rates"})
    async with httpx.AsyncClient() as http:
        acts = ProcessingActivities(dataclasses.replace(ctx, settings=nowhere), http)
        result = await ActivityEnvironment().run(acts.refresh_rates, RatesRefreshInput("test"))
    assert (result.pairs, result.error) == ([], "127.0.0.1: ConnectError")
    pair = [r for r in await rates_of(api, admin_headers) if r["quote"] == currency]
    assert [(r["buy"], r["source"]) for r in pair] == [("99", "manual")]
