from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlmodel import Session, SQLModel, select

from core.context import ServiceContext
from models.reference import BankPaymentMethod
from models.traders import Bank, Currency, PaymentMethod

REFERENCE: tuple[type[SQLModel], ...] = (Currency, Bank, PaymentMethod, BankPaymentMethod)


@pytest.fixture
async def reference_restored(ctx: ServiceContext) -> AsyncIterator[None]:
    """Reference data an administrator's run changed (a code disabled, renamed or deleted, an
    offer withdrawn) is put back after it: the rest of the suite uses RUB, sber and card."""
    with Session(ctx.engine) as session:
        saved: list[tuple[type[SQLModel], dict[str, Any]]] = [
            (model, row.model_dump()) for model in REFERENCE for row in session.exec(select(model))
        ]
    yield
    with Session(ctx.engine) as session:
        for model, values in saved:
            session.merge(model(**values))
        session.commit()
    await ctx.reference_cache.bump()
