"""Settlement: a finished order's postings on the double-entry ledger, inside the caller's
transaction. The hold is posted at the order's amount; a dispute resolved with the amount
that actually moved adds a correction posting for the difference (never an edit).

A party (store or trader) settling in another currency gets its legs converted at the rate
the order fixed (`processing.ledger.fx`); the platform's FX accounts take the other side.

A trader in a team gives their team lead the share the order fixed (`teamlead_share_bps` of
the reward): a leg of its own, out of the trader's reward, to the lead's account in the
currency the trader's legs are in (converted at the trader's rate, like the trader's legs).
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlmodel import Session

from contracts.processing import OrderKind
from models.ledger import AccountKind, HoldStatus
from models.orders import Order
from processing.ledger.fx import Conversion, converted_legs
from processing.ledger.postings import Leg, account_for, claim_hold, post
from processing.reports.rollup import record

Party = str  # "store", "trader", "profit" or "teamlead"


def bps_of(amount: int, bps: int) -> int:
    """Basis points of an amount in minor units, rounded half up, integers only."""
    return (amount * bps + 5_000) // 10_000


def settle(session: Session, order: Order) -> None:
    """Post the hold at the order's amount, then (a dispute resolved with the amount that
    actually moved) a correction posting for the difference: new postings, never edits."""
    hold = claim_hold(session, order.id, HoldStatus.posted)
    if hold is None:
        return
    accounts = _accounts(session, order, hold.account_id)
    kind = order.kind.value
    share = order.teamlead_share_minor if "teamlead" in accounts else None
    legs = _legs(order.kind, order.amount_minor, order.fee_minor, order.reward_minor, share)
    settled = f"{kind}:{order.id}:settle"
    # The keys this call posted (none on a retry): their figures go to the report's daily
    # rows in this transaction, after every posting (the rows are locked last, once).
    posted = []
    if post(
        session,
        settled,
        f"{kind}_settle",
        _resolve(session, order, legs, accounts),
        order_id=order.id,
        release=hold,
    ):
        posted.append(settled)
    posted += _correct(session, order, legs, accounts)
    session.flush()  # the rollup reads the order's row for its dimensions
    record(session.connection(), posted)


def _correct(
    session: Session, order: Order, legs: list[tuple[Party, int]], accounts: dict[Party, uuid.UUID]
) -> list[str]:
    """A dispute resolved with the amount that actually moved: the difference, posted."""
    actual = order.actual_amount_minor
    if actual is None or actual == order.amount_minor:
        return []
    kind = order.kind.value
    fee = bps_of(actual, order.merchant_fee_bps or 0)
    reward = bps_of(actual, order.trader_reward_bps or 0)
    share = bps_of(reward, order.teamlead_share_bps or 0) if "teamlead" in accounts else None
    delta: dict[Party, int] = {}
    for party, amount in _legs(order.kind, actual, fee, reward, share):
        delta[party] = delta.get(party, 0) + amount
    for party, amount in legs:
        delta[party] = delta.get(party, 0) - amount
    key = f"{kind}:{order.id}:correction"
    changes = [(p, a) for p, a in delta.items() if a]
    posted = post(session, key, "correction", _resolve(session, order, changes, accounts), order.id)
    return [key] if posted else []


def _accounts(session: Session, order: Order, held: uuid.UUID) -> dict[Party, uuid.UUID]:
    """Each party's account, in its settlement currency; the hold names one of them."""
    store_currency = order.store_currency or order.currency
    store = account_for(session, AccountKind.store, order.store_id, store_currency).id
    profit = account_for(session, AccountKind.platform_profit, None, order.currency).id
    if order.kind == OrderKind.payout:
        assert order.trader_id is not None
        currency = order.trader_currency or order.currency
        trader = account_for(session, AccountKind.trader, order.trader_id, currency).id
    else:
        trader = held  # the pay-in's hold is on the trader's account
    accounts = {"store": store, "trader": trader, "profit": profit}
    if order.teamlead_id is not None and order.teamlead_share_bps:
        # The lead is paid in the order's currency (never converted): the turnover report
        # reads each share off the lead's account in the currency the order is in.
        lead = account_for(session, AccountKind.teamlead, order.teamlead_id, order.currency)
        accounts["teamlead"] = lead.id
    return accounts


def _legs(
    kind: OrderKind, amount: int, fee: int | None, reward: int | None, share: int | None = None
) -> list[tuple[Party, int]]:
    """Settlement legs in the order's currency, by party.
    Pay-in: trader −amount +reward, store +amount −fee, platform +fee −reward.
    Pay-out: store −(amount + fee), trader +(amount + reward), platform +fee −reward.
    The platform's fee and reward are separate entries in both kinds: the turnover report
    (`processing.reports`) reads fees and rewards off them.
    A team lead's share comes out of the trader's reward: trader +(reward − share), lead
    +share (the trader's one debit stays the order's principal, which the report reads)."""
    fee, reward, share = fee or 0, reward or 0, share or 0
    if kind == OrderKind.payout:
        legs = [
            ("store", -(amount + fee)),
            ("trader", amount + reward - share),
            ("profit", fee),
            ("profit", -reward),
        ]
    else:
        legs = [
            ("trader", -amount),
            ("store", amount - fee),
            ("profit", fee),
            ("trader", reward - share),
            ("profit", -reward),
        ]
    return [*legs, ("teamlead", share)] if share else legs


def conversions(order: Order, accounts: dict[Party, uuid.UUID]) -> dict[Party, Conversion]:
    """The parties whose legs are converted, at the rates the order fixed."""
    fixed = {
        "store": (order.store_currency, order.store_rate),
        "trader": (order.trader_currency, order.trader_rate),
    }
    return {
        party: Conversion(accounts[party], order.currency, currency, Decimal(rate))
        for party, (currency, rate) in fixed.items()
        if party in accounts
        and currency is not None
        and rate is not None
        and currency != order.currency
    }


def _resolve(
    session: Session, order: Order, legs: list[tuple[Party, int]], accounts: dict[Party, uuid.UUID]
) -> list[Leg]:
    converting = conversions(order, accounts)
    resolved: list[Leg] = []
    for party, amount in legs:
        conversion = converting.get(party)
        if conversion is None:
            resolved.append(Leg(accounts[party], amount))
        else:
            resolved += [
                Leg(acc, part) for acc, part in converted_legs(session, conversion, amount)
            ]
    return resolved
