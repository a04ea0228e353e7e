"""Trader collateral services: the administrator sets a trader's security deposit, a change
of the platform's collateral settings reaches every trader account, a trader sees their own
collateral and goes online only at or above the minimum working balance.

Each change that can lower a working balance sets the traders it takes below the minimum
offline in the same transaction (`processing.ledger.collateral.offline_if_below_minimum`).
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlmodel import Session, col, select

from core.errors import Conflict, Invalid
from core.metrics import TRADER_AUTO_OFFLINE
from models.amounts import to_decimal
from models.ledger import AccountKind, LedgerAccount
from models.platform_settings import SettingKey
from models.traders import (
    CollateralPublic,
    Currency,
    SecurityDepositUpdate,
    Trader,
    TraderMe,
    TraderPublic,
)
from processing.accounts.admin import get_or_404
from processing.ledger.collateral import (
    BELOW_MIN,
    offline_if_below_minimum,
    refresh_frozen,
    setting_map,
    shortfall,
    trader_accounts,
    working_balance,
)
from processing.ledger.postings import account_for
from processing.views import minor_units


def collateral_public(
    account: LedgerAccount, units: int, minimums: dict[str, int]
) -> CollateralPublic:
    return CollateralPublic(
        currency=account.currency,
        balance=to_decimal(account.balance_minor, units),
        security_deposit=to_decimal(account.frozen_minor, units),
        security_deposit_source="platform" if account.security_deposit_minor is None else "trader",
        held=to_decimal(account.held_minor, units),
        working_balance=to_decimal(working_balance(account), units),
        min_working_balance=to_decimal(minimums.get(account.currency, 0), units),
    )


def collateral_of(session: Session, trader_id: uuid.UUID) -> list[CollateralPublic]:
    """Per currency the trader holds an account in."""
    minimums = setting_map(session, SettingKey.min_working_balance)
    return [
        collateral_public(account, minor_units(session, account.currency), minimums)
        for account in trader_accounts(session, trader_id)
    ]


def trader_me(session: Session, trader: Trader) -> TraderMe:
    """The trader's profile with why they are offline (if the platform set them so) and
    their collateral per currency."""
    public = TraderPublic.model_validate(trader, from_attributes=True)
    return TraderMe(**public.model_dump(), collateral=collateral_of(session, trader.id))


def _minor(amount: str, units: int) -> int:
    """Zero or more, exactly: more decimals than the currency has is refused, not rounded."""
    scaled = Decimal(amount).scaleb(units)
    if scaled != scaled.to_integral_value():
        raise Invalid(f"amount has more than {units} decimals", code="invalid_amount")
    return int(scaled)


def set_security_deposit(
    session: Session, *, trader_id: uuid.UUID, body: SecurityDepositUpdate
) -> CollateralPublic:
    """Set (or, with null, return to the platform default) the trader's deposit in one
    currency; frozen at once, and the trader set offline if it takes them below the minimum."""
    get_or_404(session, Trader, trader_id, "Trader")
    if session.get(Currency, body.currency) is None:
        raise Invalid(f"Unknown currency {body.currency}", code="unknown_currency")
    units = minor_units(session, body.currency)
    amount = None if body.amount is None else _minor(body.amount, units)
    account = account_for(session, AccountKind.trader, trader_id, body.currency)
    account.security_deposit_minor = amount
    session.add(account)
    refresh_frozen(session, trader_id)
    offline = offline_if_below_minimum(session, trader_id)
    session.commit()
    if offline:
        TRADER_AUTO_OFFLINE.labels(BELOW_MIN).inc()
    session.refresh(account)
    minimums = setting_map(session, SettingKey.min_working_balance)
    return collateral_public(account, units, minimums)


def settings_changed(session: Session) -> int:
    """After `security_deposit_default` or `min_working_balance` changed: every trader
    account freezes its deposit in force, and every online trader it takes below the
    minimum goes offline. How many went offline."""
    refresh_frozen(session)
    minimums = [c for c, m in setting_map(session, SettingKey.min_working_balance).items() if m]
    # Only traders online with an account in a currency that has a minimum can fall below it.
    online = session.exec(
        select(Trader.id)
        .join(LedgerAccount, col(LedgerAccount.owner_id) == Trader.id)
        .where(
            col(Trader.is_online).is_(True),
            LedgerAccount.kind == AccountKind.trader,
            col(LedgerAccount.currency).in_(minimums),
        )
        .distinct()
    ).all()
    went = sum(offline_if_below_minimum(session, trader_id) for trader_id in online)
    session.commit()
    if went:
        TRADER_AUTO_OFFLINE.labels(BELOW_MIN).inc(went)
    return went


def check_can_go_online(session: Session, trader_id: uuid.UUID) -> None:
    """409 `below_min_working_balance` while any currency's working balance is below the
    platform's minimum (the details say which, by how much)."""
    # Locked: a hold placed meanwhile waits for this answer (and then sees the trader online,
    # so takes them offline again if it goes below), or this waits for the hold.
    short = shortfall(session, trader_id, lock=True)
    if short is None:
        return
    units = minor_units(session, short.currency)
    raise Conflict(
        f"Your working balance in {short.currency} is below the minimum to go online",
        code=BELOW_MIN,
        details={
            "currency": short.currency,
            "working_balance": to_decimal(short.working_minor, units),
            "min_working_balance": to_decimal(short.minimum_minor, units),
        },
    )
