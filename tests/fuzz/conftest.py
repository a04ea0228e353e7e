from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlmodel import Session, SQLModel, col, delete, select

from core.context import ServiceContext
from models.analytics import CategoryRuleRow
from models.reference import BankPaymentMethod
from models.traders import Bank, Currency, PaymentMethod

# Parents first (the order saved rows are put back in); the category rules last.
REFERENCE: tuple[type[SQLModel], ...] = (
    Currency,
    Bank,
    PaymentMethod,
    BankPaymentMethod,
    CategoryRuleRow,
)


@pytest.fixture
async def reference_restored(ctx: ServiceContext) -> AsyncIterator[None]:
    """Reference data an administrator's run changed (a code disabled, renamed or deleted, an
    offer withdrawn) is put back after it: the rest of the suite uses RUB, sber and card.
    Category rules it added are deleted: a rule the fuzzer made up (any pattern, any
    category) would recategorise every later test's transactions."""
    with Session(ctx.engine) as session:
        saved: list[tuple[type[SQLModel], dict[str, Any]]] = [
            (model, row.model_dump()) for model in REFERENCE for row in session.exec(select(model))
        ]
    yield
    with Session(ctx.engine) as session:
        kept = {values["id"] for model, values in saved if model is CategoryRuleRow}
        session.exec(delete(CategoryRuleRow).where(col(CategoryRuleRow.id).not_in(kept)))
        for model, values in saved:
            session.merge(model(**values))
        session.commit()
    await ctx.reference_cache.bump()
