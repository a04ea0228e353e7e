"""Public reference data: currencies, banks and payment methods that are active, cached
briefly (every API process, or Redis) and served with an ETag."""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any

from sqlmodel import Session, col, select

from core.context import ServiceContext
from models.traders import Bank, Currency, PaymentMethod

CACHE_TTL_S = 60
TABLES: dict[str, Any] = {"currencies": Currency, "banks": Bank, "payment-methods": PaymentMethod}


def _rows(ctx: ServiceContext, kind: str) -> list[dict[str, Any]]:
    model = TABLES[kind]
    with Session(ctx.engine) as session:
        query = select(model).where(col(model.is_active)).order_by(col(model.code))
        return [row.model_dump(exclude={"is_active"}) for row in session.exec(query)]


async def reference(ctx: ServiceContext, kind: str) -> tuple[str, str]:
    """(JSON body, ETag) of one list."""
    key = f"reference:{kind}"
    body = await ctx.cache.get(key)
    if body is None:
        rows = await asyncio.to_thread(_rows, ctx, kind)
        body = json.dumps(rows, ensure_ascii=False, separators=(",", ":"))
        await ctx.cache.set(key, body, CACHE_TTL_S)
    etag = '"' + hashlib.sha256(body.encode()).hexdigest()[:32] + '"'
    return body, etag
