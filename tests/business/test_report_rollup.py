"""The turnover report read from its daily rows equals the report summed from the ledger's
entries, for randomized settlements: pay-ins and pay-outs of random amounts, fees and
rewards in three stores and three traders, some with a team lead's share, some disputed and
settled at a smaller actual amount (a correction posting), spread over two months (moved,
then the days rebuilt), and some posted as the previous release does, without the rows
(read from the ledger beside them). Every grouping and granularity, filters included."""

from __future__ import annotations

import datetime as dt
import itertools
import random
import uuid
from typing import Any

import pytest
from sqlalchemy import update
from sqlmodel import Session, col

from contracts.processing import OrderKind, OrderStatus
from core.context import ServiceContext
from models.ledger import AccountKind, Posting
from models.merchants import Store
from models.orders import Order
from models.reports import Granularity
from models.teams import Team
from models.traders import Trader
from models.users import Role
from processing.ledger import settlement
from processing.ledger.postings import account_for, deposit, place_hold
from processing.reports.lines import ledger_lines, turnover_lines
from processing.reports.rollup import rebuild, roll_up_pending
from processing.reports.turnover import TurnoverQuery
from tests.factories import create_user
from tests.processing.conftest import make_store, new_currency

SEED = 20261207
TODAY = dt.datetime.now(dt.UTC).date()
FUNDS = 10**12


def _parties(ctx: ServiceContext, currency: str) -> tuple[list[Store], list[Trader], Team]:
    stores = [make_store(ctx, currency) for _ in range(3)]
    with Session(ctx.engine, expire_on_commit=False) as session:
        traders = [Trader(user_id=create_user(ctx.engine, Role.trader).id) for _ in range(3)]
        lead = create_user(ctx.engine, Role.teamlead)
        team = Team(name=f"Rollup {uuid.uuid4().hex[:8]}", lead_user_id=lead.id, share_bps=1000)
        session.add_all([*traders, team])
        session.commit()
        for trader in traders:
            deposit(session, trader.id, currency, FUNDS, f"rollup-{uuid.uuid4()}")
        for kit in stores:
            deposit(session, kit.store_id, currency, FUNDS, f"rollup-{uuid.uuid4()}",
                    AccountKind.store)  # fmt: skip
        session.commit()
        rows = [session.get(Store, kit.store_id) for kit in stores]
    return [row for row in rows if row is not None], traders, team


def _order(rng: random.Random, store: Store, trader: Trader, team: Team, i: int) -> Order:
    kind = rng.choice([OrderKind.payin, OrderKind.payout])
    amount = rng.randint(100_00, 5_000_00)
    fee_bps, reward_bps = rng.choice([100, 200, 300]), rng.choice([50, 100, 150])
    reward = settlement.bps_of(amount, reward_bps)
    order = Order(
        kind=kind, store_id=store.id, merchant_id=store.merchant_id,
        merchant_order_id=f"rollup-{i}-{uuid.uuid4().hex[:6]}", idempotency_key=uuid.uuid4().hex,
        request_hash="0" * 64, requested_amount_minor=amount, amount_minor=amount,
        currency=store.currency, status=OrderStatus.completed, merchant_fee_bps=fee_bps,
        trader_reward_bps=reward_bps, fee_minor=settlement.bps_of(amount, fee_bps),
        reward_minor=reward, trader_id=trader.id,
    )  # fmt: skip
    if rng.random() < 0.5:
        order.teamlead_id, order.teamlead_share_bps = team.lead_user_id, team.share_bps
        order.teamlead_share_minor = settlement.bps_of(reward, team.share_bps)
    if rng.random() < 0.25:
        order.disputed_at = dt.datetime.now(dt.UTC)
        order.actual_amount_minor = amount - rng.randint(1, amount // 2)
    return order


def _settle(session: Session, order: Order) -> None:
    session.add(order)
    session.flush()
    if order.kind == OrderKind.payin:
        assert order.trader_id is not None
        held = account_for(session, AccountKind.trader, order.trader_id, order.currency)
        assert place_hold(session, order.id, held.id, order.amount_minor)
    else:
        held = account_for(session, AccountKind.store, order.store_id, order.currency)
        assert place_hold(session, order.id, held.id, order.amount_minor + (order.fee_minor or 0))
    settlement.settle(session, order)
    session.commit()


def _settle_many(ctx: ServiceContext, rng: random.Random, count: int, currency: str) -> list[Any]:
    stores, traders, team = _parties(ctx, currency)
    ids = []
    with Session(ctx.engine) as session:
        for i in range(count):
            order = _order(rng, rng.choice(stores), rng.choice(traders), team, i)
            _settle(session, order)
            ids.append(order.id)
    return [stores, traders, team, ids]


def _queries(currency: str, stores: list[Store], team: Team) -> list[TurnoverQuery]:
    dims = ["merchant", "store", "trader", "team", "kind", "currency"]
    groupings = [(), *itertools.combinations(dims, 1), *itertools.combinations(dims, 2)]
    start = TODAY - dt.timedelta(days=70)
    found = [
        TurnoverQuery(start, TODAY, g, by, {"currency": currency})
        for g in Granularity
        for by in groupings
    ]
    extra: list[dict[str, object]] = [
        {"store": stores[0].id},
        {"team": team.id},
        {"kind": "payout"},
    ]
    for filters in extra:
        for by in [("trader",), ("kind",), ("store",)]:
            found.append(
                TurnoverQuery(start, TODAY, Granularity.day, by, {"currency": currency, **filters})
            )
    return found


@pytest.mark.parametrize("seed", [SEED, SEED + 1])
def test_daily_rows_sum_to_the_ledger_for_random_settlements(
    ctx: ServiceContext, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    rng = random.Random(seed)
    currency = new_currency(ctx)
    stores, traders, team, ids = _settle_many(ctx, rng, 40, currency)
    # Two months of history: postings moved to random days, then those days rebuilt.
    with Session(ctx.engine) as session:
        for order_id in rng.sample(ids, 25):
            moved = TODAY - dt.timedelta(days=rng.randint(1, 60))
            at = dt.datetime.combine(moved, dt.time(rng.randint(0, 23), 30), dt.UTC)
            session.execute(
                update(Posting).where(col(Posting.order_id) == order_id).values(created_at=at)
            )
        session.commit()
    rebuild(ctx.engine, TODAY - dt.timedelta(days=60), TODAY)
    # The previous release settles without the rows: those postings are read from the ledger.
    with monkeypatch.context() as patched:
        patched.setattr(settlement, "record", lambda conn, keys: None)
        _settle_many(ctx, rng, 6, currency)
    with Session(ctx.engine) as session:
        pending = session.exec(
            Posting.__table__.select().where(  # type: ignore[attr-defined]
                col(Posting.turnover_rolled_at).is_(None), col(Posting.order_id).is_not(None)
            )
        ).all()
    assert pending, "the previous release's postings are not rolled up"
    for query in _queries(currency, stores, team):
        with Session(ctx.engine) as session:
            assert turnover_lines(session, query) == ledger_lines(session, query), query
    # Rolled up later (the job after a deploy): the same figures, from the rows alone.
    assert roll_up_pending(ctx.engine) >= len(pending) > 0
    for query in _queries(currency, stores, team)[:20]:
        with Session(ctx.engine) as session:
            assert turnover_lines(session, query) == ledger_lines(session, query), query
    assert traders
