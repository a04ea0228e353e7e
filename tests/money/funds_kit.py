"""Deposit and withdrawal test building blocks: balances read from the ledger, staff
members, requests sent the way clients send them."""

from __future__ import annotations

import uuid
from typing import Any

import base58
import httpx
from sqlmodel import Session, col, select

from contracts.funds import OwnerKind
from core.context import ServiceContext
from models.audit import AuditEntry
from models.funds import Withdrawal, WithdrawalCreate
from models.ledger import AccountKind, Hold, HoldStatus, LedgerAccount
from models.users import Role
from processing.funds.common import Owner
from processing.funds.withdrawals import find_or_create
from processing.platform.settings import effective
from tests.factories import create_user, login
from tests.processing.payout_kit import balance, merchant_headers

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
# A valid Tron address (0x41 + 20 bytes, Base58Check) and one with its checksum broken.
TRC20 = base58.b58encode_check(bytes([0x41]) + bytes(range(20))).decode()
TRC20_BAD = TRC20[:-1] + ("a" if TRC20[-1] != "a" else "b")
CARD = "4111 1111 1111 1111"
CARD_BAD = "4111 1111 1111 1112"
__all__ = ["merchant_headers"]


def withdrawal_body(
    currency: str, amount: str = "1000.00", kind: str = "trc20", to: str = TRC20
) -> dict[str, Any]:
    return {"amount": amount, "currency": currency, "destination": {"kind": kind, "value": to}}


def ledger(
    ctx: ServiceContext, kind: AccountKind, owner_id: uuid.UUID | None, currency: str
) -> tuple[int, int]:
    """(balance, held) in minor units; (0, 0) for an account not opened yet."""
    return balance(ctx, owner_id, kind, currency)


def pending_holds(ctx: ServiceContext, account_owner: uuid.UUID, currency: str) -> int:
    with Session(ctx.engine) as session:
        rows = session.exec(
            select(Hold)
            .join(LedgerAccount, col(LedgerAccount.id) == Hold.account_id)
            .where(
                LedgerAccount.owner_id == account_owner,
                LedgerAccount.currency == currency,
                Hold.status == HoldStatus.pending,
            )
        ).all()
        return len(rows)


def audited(ctx: ServiceContext, target_type: str, target_id: uuid.UUID | str) -> list[AuditEntry]:
    with Session(ctx.engine) as session:
        return list(
            session.exec(
                select(AuditEntry)
                .where(AuditEntry.target_type == target_type)
                .where(AuditEntry.target_id == str(target_id))
                .order_by(col(AuditEntry.at))
            ).all()
        )


async def staff(api: httpx.AsyncClient, ctx: ServiceContext) -> tuple[uuid.UUID, dict[str, str]]:
    user = create_user(ctx.engine, Role.admin)
    return user.id, await login(api, user.email)


def saved_without_start(
    ctx: ServiceContext, trader_id: uuid.UUID, sent: dict[str, Any]
) -> Withdrawal:
    """A trader's withdrawal and its hold committed, as a create does before it starts the
    workflow (the start then never reaching the engine)."""
    with Session(ctx.engine, expire_on_commit=False) as session:
        row, created = find_or_create(
            session,
            ctx,
            owner=Owner(OwnerKind.trader, trader_id),
            body=WithdrawalCreate.model_validate(sent),
            key=None,
            platform=effective(session, ctx.settings),
        )
    assert created
    return row


def code_of(response: httpx.Response) -> str:
    body: dict[str, Any] = response.json()
    return str(body["error"]["code"])
