"""What deposits and withdrawals share: whose balance, amounts, the approval threshold,
proof files, views and bounded pages."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Engine, update
from sqlmodel import Session, SQLModel, col, select

from contracts.funds import OwnerKind
from core.context import ServiceContext
from core.errors import Invalid, NotFound
from models.amounts import to_decimal, to_minor
from models.base import utcnow
from models.funds import Deposit, DepositPublic, Withdrawal, WithdrawalPublic
from models.ledger import AccountKind
from models.traders import Currency
from processing.orders.receipts import receipt_type
from processing.views import minor_units

T = TypeVar("T", Deposit, Withdrawal)


@dataclass(frozen=True)
class Owner:
    """Whose balance a request moves: a trader, or a merchant's store (a store's merchant
    is kept for the lists and the search attributes)."""

    kind: OwnerKind
    owner_id: uuid.UUID
    merchant_id: uuid.UUID | None = None

    @property
    def account_kind(self) -> AccountKind:
        return AccountKind.trader if self.kind == OwnerKind.trader else AccountKind.store


def amount_of(session: Session, currency: str, amount: str) -> tuple[int, int]:
    """(amount in minor units, the currency's minor units); 422 for an unknown currency or
    more decimals than it has."""
    if session.get(Currency, currency) is None:
        raise Invalid(f"Unknown currency {currency}", code="unknown_currency")
    units = minor_units(session, currency)
    try:
        return to_minor(amount, units), units
    except ValueError as exc:
        raise Invalid(str(exc), code="invalid_amount") from exc


def needs_two(amount_minor: int, units: int, threshold_whole_units: int) -> bool:
    """Above the threshold (whole currency units) a second staff member must approve."""
    return amount_minor > threshold_whole_units * 10**units


async def store_proof(ctx: ServiceContext, prefix: str, data: bytes) -> str:
    """Put a proof file (PNG, JPEG or PDF, checked by its bytes) in S3; its key."""
    content_type, ext = receipt_type(data)
    digest = hashlib.sha256(data).hexdigest()[:16]
    key = f"funds/{prefix}/{uuid.uuid4().hex}-{digest}.{ext}"
    await asyncio.to_thread(ctx.storage.put, key, data, content_type)
    return key


@dataclass(frozen=True)
class Scope:
    """Whose requests a reader sees: one owner's, a merchant's (all its stores'), or every
    one (staff: both None)."""

    owner: Owner | None = None
    merchant_id: uuid.UUID | None = None


STAFF = Scope()


def scoped(query: Any, model: type[T], scope: Scope) -> Any:
    if scope.owner is not None:
        owner = scope.owner
        query = query.where(model.owner_kind == owner.kind, model.owner_id == owner.owner_id)
    if scope.merchant_id is not None:
        query = query.where(
            model.owner_kind == OwnerKind.store, model.merchant_id == scope.merchant_id
        )
    return query


def owned(session: Session, model: type[T], row_id: uuid.UUID, scope: Scope) -> T:
    """A request this reader may see; someone else's is a 404."""
    query = scoped(select(model).where(col(model.id) == row_id), model, scope)
    row = session.exec(query).first()
    if row is None:
        what = model.__name__.lower()
        raise NotFound(f"{model.__name__} not found", code=f"{what}_not_found")
    return row


def page_of(
    session: Session,
    model: type[T],
    *,
    scope: Scope,
    status: str | None,
    limit: int,
    offset: int,
) -> tuple[list[T], int | None]:
    """Newest first, what the scope sees; the next page's offset, if any."""
    query = scoped(select(model), model, scope)
    if status is not None:
        query = query.where(col(model.status) == status)
    query = query.order_by(col(model.created_at).desc(), col(model.id)).offset(offset)
    rows = list(session.exec(query.limit(limit + 1)).all())
    following = offset + limit if len(rows) > limit else None
    return rows[:limit], following


def mark_started(
    engine: Engine, model: type[Deposit] | type[Withdrawal], row_id: uuid.UUID
) -> None:
    """The engine has the request's workflow: it leaves the reconciler's partial index."""
    with Session(engine) as session:
        session.execute(
            update(model)
            .where(col(model.id) == row_id, col(model.workflow_started_at).is_(None))
            .values(workflow_started_at=utcnow())
        )
        session.commit()


def deposit_public(session: Session, row: Deposit) -> DepositPublic:
    units = minor_units(session, row.currency)
    return DepositPublic.model_validate(
        _fields(row, DepositPublic) | {"amount": to_decimal(row.amount_minor, units)}
    )


def withdrawal_public(session: Session, row: Withdrawal) -> WithdrawalPublic:
    units = minor_units(session, row.currency)
    shown = {
        "amount": to_decimal(row.amount_minor, units),
        "fee": to_decimal(row.fee_minor, units),
        "destination": row.destination_masked,
    }
    return WithdrawalPublic.model_validate(_fields(row, WithdrawalPublic) | shown)


def _fields(row: Deposit | Withdrawal, schema: type[SQLModel]) -> dict[str, Any]:
    names = schema.model_fields.keys() & type(row).model_fields.keys()
    return {name: getattr(row, name) for name in names} | {"has_proof": row.proof_key is not None}
