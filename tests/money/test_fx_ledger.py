"""The ledger in more than one currency: a posting must balance in each currency of its
legs, and migration 0016 leaves every balance and posting written before it as it was."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from core.context import ServiceContext
from core.migrate import downgrade, upgrade
from models.ledger import AccountKind
from processing.ledger.postings import Leg, account_for, post
from tests.conftest import scratch_database
from tests.money.fx_kit import USDT, account
from tests.processing.conftest import new_currency


def test_a_posting_must_balance_in_each_currency(ctx: ServiceContext) -> None:
    currency, owner = new_currency(ctx), uuid.uuid4()
    with Session(ctx.engine) as session:
        fiat = account_for(session, AccountKind.platform_funding, None, currency).id
        usdt = account_for(session, AccountKind.store, owner, USDT).id
        session.commit()
        # Zero in total, but not per currency: a conversion written as one posting.
        with pytest.raises(ValueError, match=f"{USDT}|{currency}"):
            post(session, f"mixed:{owner}", "test", [Leg(fiat, -100), Leg(usdt, 100)])
        session.rollback()
    assert account(ctx, AccountKind.store, owner, USDT) == (0, 0)
    assert account(ctx, AccountKind.platform_funding, None, currency) == (0, 0)


ACCOUNTS = sa.table(
    "ledger_accounts",
    *(sa.column(c, sa.Uuid) for c in ("id", "owner_id")),
    *(sa.column(c, sa.String) for c in ("kind", "currency")),
    *(sa.column(c, sa.BigInteger) for c in ("balance_minor", "held_minor")),
    sa.column("allow_negative", sa.Boolean),
    sa.column("created_at", sa.DateTime),
)
POSTINGS = sa.table(
    "ledger_postings",
    sa.column("id", sa.Uuid),
    *(sa.column(c, sa.String) for c in ("idempotency_key", "kind")),
    sa.column("created_at", sa.DateTime),
)
ENTRIES = sa.table(
    "ledger_entries",
    *(sa.column(c, sa.Uuid) for c in ("id", "posting_id", "account_id")),
    sa.column("amount_minor", sa.BigInteger),
)


def _ledger(url: str) -> list[tuple[object, ...]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(ACCOUNTS.c.kind, ACCOUNTS.c.currency, ACCOUNTS.c.balance_minor).order_by(
                    ACCOUNTS.c.kind
                )
            ).all()
            entries = conn.execute(
                sa.select(ENTRIES.c.amount_minor).order_by(ENTRIES.c.amount_minor)
            ).all()
            return [tuple(r) for r in [*rows, *entries]]
    finally:
        engine.dispose()


def _seed(url: str) -> None:
    engine = sa.create_engine(url)
    now, posting = datetime.now(UTC), uuid.uuid4()
    ids = {AccountKind.platform_funding: uuid.uuid4(), AccountKind.trader: uuid.uuid4()}
    with engine.begin() as conn:
        for kind, account_id in ids.items():
            trader = kind == AccountKind.trader
            conn.execute(
                ACCOUNTS.insert().values(
                    id=account_id,
                    owner_id=uuid.uuid4() if trader else None,
                    kind=kind.value,
                    currency="RUB",
                    balance_minor=5_000 if trader else -5_000,
                    held_minor=0,
                    allow_negative=not trader,
                    created_at=now,
                )
            )
        conn.execute(
            POSTINGS.insert().values(
                id=posting, idempotency_key="d:1", kind="deposit", created_at=now
            )
        )
        for kind, amount in ((AccountKind.platform_funding, -5_000), (AccountKind.trader, 5_000)):
            conn.execute(
                ENTRIES.insert().values(
                    id=uuid.uuid4(), posting_id=posting, account_id=ids[kind], amount_minor=amount
                )
            )
    engine.dispose()


@pytest.fixture(params=["postgresql", "sqlite"])
def scratch_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with scratch_database(request.param, tmp_path, "jivapay_fx_migrate") as url:
        yield url


def test_migration_0016_keeps_balances_and_postings(scratch_url: str) -> None:
    upgrade(scratch_url, "0015")
    _seed(scratch_url)
    before = _ledger(scratch_url)
    upgrade(scratch_url, "0016")
    assert _ledger(scratch_url) == before
    engine = sa.create_engine(scratch_url)
    with engine.connect() as conn:
        usdt = conn.execute(sa.text("SELECT minor_units FROM currencies WHERE code = 'USDT'"))
        assert usdt.scalar() == 6
    engine.dispose()
    downgrade(scratch_url, "0015")
    assert _ledger(scratch_url) == before
