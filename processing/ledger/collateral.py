"""Trader collateral on the ledger: the security deposit frozen on a trader's account, the
working balance (balance − security deposit − holds, per currency) and the minimum below which
the platform sets a trader offline.

The deposit in force is a column of the account (`frozen_minor`), so the one guarded UPDATE
that places every hold (`postings.place_hold`) leaves it alone without reading any setting.
It follows the administrator's value for the account (`security_deposit_minor`) or, where
there is none, the platform's `security_deposit_default` for the currency: `refresh_frozen`
writes it whenever either changes. Both settings are maps per currency in minor units, read
from the database (an administrator sets them at run time; nothing in the environment).

Only a new hold, a raised deposit or a changed setting lowers a working balance (a pay-in's
settlement posts what its hold already took, plus the reward; a pay-out credits the trader):
those are where `offline_if_below_minimum` runs, in the same transaction. A withdrawal hold
calls it after `place_hold` the same way.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import update
from sqlmodel import Session, col, select

from models.audit import AuditEntry
from models.base import utcnow
from models.ledger import AccountKind, LedgerAccount
from models.platform_settings import MinorByCurrency, PlatformSetting, SettingKey
from models.traders import Trader
from processing.notifications import events as notify

BELOW_MIN = "below_min_working_balance"
INSUFFICIENT_WORKING_BALANCE = "insufficient_working_balance"
# The audit log's actor for what the platform itself did (no user acted).
SYSTEM_ACTOR = uuid.UUID(int=0)
_MINOR_MAP: TypeAdapter[dict[str, int]] = TypeAdapter(MinorByCurrency)


def setting_map(session: Session, key: SettingKey) -> dict[str, int]:
    """A per-currency amount setting as stored; none stored (or unreadable) is no amount."""
    row = session.get(PlatformSetting, key.value)
    if row is None:
        return {}
    try:
        return _MINOR_MAP.validate_python(row.value)
    except ValidationError:
        return {}


def deposit_default(session: Session, currency: str) -> int:
    return setting_map(session, SettingKey.security_deposit_default).get(currency, 0)


def working_balance(account: LedgerAccount) -> int:
    return account.balance_minor - account.frozen_minor - account.held_minor


def trader_accounts(
    session: Session, trader_id: uuid.UUID, lock: bool = False
) -> list[LedgerAccount]:
    query = select(LedgerAccount).where(
        LedgerAccount.kind == AccountKind.trader, LedgerAccount.owner_id == trader_id
    )
    query = query.order_by(col(LedgerAccount.currency))
    return list(session.exec(query.with_for_update() if lock else query).all())


def refresh_frozen(session: Session, owner_id: uuid.UUID | None = None) -> None:
    """Make every trader account (or one trader's) freeze its deposit in force: its own
    value, else the platform default for its currency. Rows already right are not touched."""
    defaults = setting_map(session, SettingKey.security_deposit_default)
    frozen, own = col(LedgerAccount.frozen_minor), col(LedgerAccount.security_deposit_minor)
    scope = [col(LedgerAccount.kind) == AccountKind.trader]
    if owner_id is not None:
        scope.append(col(LedgerAccount.owner_id) == owner_id)
    session.flush()
    conn = session.connection()
    conn.execute(
        update(LedgerAccount)
        .where(*scope, own.is_not(None), frozen != own)
        .values(frozen_minor=own)
    )
    on_default = [*scope, own.is_(None)]
    conn.execute(
        update(LedgerAccount)
        .where(*on_default, col(LedgerAccount.currency).not_in(list(defaults)), frozen != 0)
        .values(frozen_minor=0)
    )
    for currency, amount in sorted(defaults.items()):
        conn.execute(
            update(LedgerAccount)
            .where(*on_default, col(LedgerAccount.currency) == currency, frozen != amount)
            .values(frozen_minor=amount)
        )
    _expire_loaded(session, LedgerAccount)


def _expire_loaded(session: Session, model: type) -> None:
    """Rows of `model` this session holds are read again next time: a Core UPDATE changed
    them behind the session's back."""
    for row in list(session.identity_map.values()):
        if isinstance(row, model):
            session.expire(row)


@dataclass(frozen=True)
class Shortfall:
    currency: str
    working_minor: int
    minimum_minor: int


def shortfall(session: Session, trader_id: uuid.UUID, lock: bool = False) -> Shortfall | None:
    """The first currency where the trader's working balance is below the platform's
    minimum, if any (accounts are read afresh: the caller's transaction may have moved them).
    `lock`: the accounts stay locked, so no hold lands between this answer and the commit."""
    minimums = setting_map(session, SettingKey.min_working_balance)
    if not any(minimums.values()):
        return None
    session.flush()
    _expire_loaded(session, LedgerAccount)
    for account in trader_accounts(session, trader_id, lock):
        minimum = minimums.get(account.currency, 0)
        if working_balance(account) < minimum:
            return Shortfall(account.currency, working_balance(account), minimum)
    return None


def offline_if_below_minimum(session: Session, trader_id: uuid.UUID) -> bool:
    """In the caller's transaction (the one that lowered the working balance): an online
    trader below the minimum goes offline, with the reason and an audit entry. True when
    this call set them offline (the caller counts it once the transaction commits)."""
    short = shortfall(session, trader_id)
    if short is None:
        return False
    went = session.connection().execute(
        update(Trader)
        .where(col(Trader.id) == trader_id, col(Trader.is_online).is_(True))
        .values(is_online=False, offline_reason=BELOW_MIN, offline_since=utcnow())
    )
    if went.rowcount != 1:
        return False
    notify.balance_low(session, trader_id, short.currency, short.working_minor, short.minimum_minor)
    _expire_loaded(session, Trader)
    session.add(
        AuditEntry(
            actor_user_id=SYSTEM_ACTOR,
            action="system: trader set offline",
            target_type="Trader",
            target_id=str(trader_id),
            before={"is_online": True, "offline_reason": None},
            after={
                "is_online": False,
                "offline_reason": BELOW_MIN,
                "currency": short.currency,
                "working_balance_minor": short.working_minor,
                "min_working_balance_minor": short.minimum_minor,
            },
        )
    )
    return True


def covers(session: Session, trader_id: uuid.UUID, currency: str, amount: int) -> bool:
    """Whether the trader's working balance in the currency covers `amount`, where the
    platform asks this trader for collateral there (a deposit or a minimum above zero);
    where it asks for none, a trader who only pays out needs no balance (as before)."""
    account = session.exec(
        select(LedgerAccount).where(
            LedgerAccount.kind == AccountKind.trader,
            LedgerAccount.owner_id == trader_id,
            LedgerAccount.currency == currency,
        )
    ).first()
    frozen = account.frozen_minor if account else deposit_default(session, currency)
    minimum = setting_map(session, SettingKey.min_working_balance).get(currency, 0)
    if frozen == 0 and minimum == 0:
        return True
    return account is not None and working_balance(account) >= amount
