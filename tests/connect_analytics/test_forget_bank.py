"""A disconnected bank's data is deleted and the analysis is rebuilt from the other banks."""

from __future__ import annotations

import httpx
from sqlmodel import Session, col, select

from connect.erasure import forget_bank
from core.context import ServiceContext
from models.analytics import AnalyticsSnapshot
from models.banking import BankAccount, BankTransaction
from tests.connect_analytics.bankdata import BankData, steady_earner
from tests.connect_analytics.conftest import NewUser, snapshot


def _steady_earner_at(data: BankData, banks: list[str]) -> None:
    """The steady earner's VBank account, and these banks connected."""
    steady_earner(data)
    for bank in banks:
        data.connection(bank)


async def test_forgetting_a_bank_deletes_its_rows_and_rebuilds_the_analysis(
    api: httpx.AsyncClient, ctx: ServiceContext, new_user: NewUser
) -> None:
    user, data = await new_user()
    other = data.account("acc-9", balance_rub=50_000, bank="abank")
    data.tx(other, "2026-03-01", -2_000, "Продукты")
    _steady_earner_at(data, ["vbank", "abank"])
    data.save(ctx.engine)
    snapshot(ctx, user)
    before = (await api.get("/api/dashboard", headers=user.headers)).json()
    counted = before["metrics"]["safe_to_spend"]["inputs"]["spendable_accounts"]
    assert set(counted) == {"vbank/acc-1", "abank/acc-9"}

    forget_bank(ctx.engine, user.user_id, "abank")

    with Session(ctx.engine) as session:
        banks = session.exec(
            select(BankAccount.bank_code).where(col(BankAccount.user_id) == user.user_id)
        ).all()
        abank_rows = session.exec(
            select(BankTransaction.id).where(
                col(BankTransaction.user_id) == user.user_id,
                col(BankTransaction.bank_code) == "abank",
            )
        ).all()
        snapshots = session.exec(
            select(AnalyticsSnapshot.id).where(col(AnalyticsSnapshot.user_id) == user.user_id)
        ).all()
    assert banks == ["vbank"] and abank_rows == []
    assert len(snapshots) == 1  # the old ones counted ABank; one new one without it
    after = (await api.get("/api/dashboard", headers=user.headers)).json()
    assert after["metrics"]["safe_to_spend"]["inputs"]["spendable_accounts"] == {
        "vbank/acc-1": 100_000_00
    }
    assert {a["bank_code"] for a in after["accounts"]} == {"vbank"}
    abank = next(b for b in after["banks"] if b["bank_code"] == "abank")
    assert abank["status"] == "not_connected"


async def test_forgetting_the_only_bank_leaves_no_analysis(
    api: httpx.AsyncClient, ctx: ServiceContext, new_user: NewUser
) -> None:
    user, data = await new_user()
    _steady_earner_at(data, ["vbank"])
    data.save(ctx.engine)
    snapshot(ctx, user)

    forget_bank(ctx.engine, user.user_id, "vbank")

    after = (await api.get("/api/dashboard", headers=user.headers)).json()
    assert after["metrics"] is None and after["accounts"] == []
    assert after["status"] == "no_data"
