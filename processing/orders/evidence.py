"""Who may look at an order's files (customer and trader receipts, dispute evidence, pay-out
proofs): staff who read orders, and the order's own parties (its merchant, its trader).

The files are never served through us: a viewer gets a presigned S3 URL that works for
`LINK_SECONDS`, made per request after the access check (and audited by the caller).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from core.errors import NotFound
from core.permissions import Permission, allows
from models.merchants import Merchant
from models.orders import Order, Receipt
from models.traders import Trader
from models.users import User

# Long enough to open the file after the redirect, short enough that a copied link is dead
# by the time it could be passed on.
LINK_SECONDS = 60


class ReceiptNotFound(NotFound):
    code = "receipt_not_found"

    def __init__(self) -> None:
        super().__init__("File not found")


def viewable_receipt(session: Session, receipt_id: uuid.UUID, viewer: User) -> Receipt:
    """The file when `viewer` may see it; anyone else's is simply not found (no hint that
    it exists)."""
    query = (
        select(Receipt)
        .join(Order, col(Order.id) == Receipt.order_id)
        .where(Receipt.id == receipt_id)
    )
    if not allows(viewer.role.value, Permission.read):
        merchants = select(Merchant.id).where(Merchant.owner_user_id == viewer.id)
        traders = select(Trader.id).where(Trader.user_id == viewer.id)
        query = query.where(
            or_(col(Order.merchant_id).in_(merchants), col(Order.trader_id).in_(traders))
        )
    receipt = session.exec(query).first()
    if receipt is None:
        raise ReceiptNotFound()
    return receipt


def order_files(session: Session, order_id: uuid.UUID) -> list[dict[str, Any]]:
    """An order's files, oldest first, for staff: who uploaded each, its type and size, and
    whether it is the dispute's evidence."""
    order = session.get(Order, order_id)
    evidence = order.dispute_evidence_id if order else None
    rows = session.exec(
        select(Receipt)
        .where(Receipt.order_id == order_id)
        .order_by(col(Receipt.created_at), col(Receipt.id))
    )
    return [
        {
            "id": r.id,
            "by": r.uploaded_by_type.value,
            "content_type": r.content_type,
            "kib": max(1, r.size_bytes // 1024),
            "at": r.created_at,
            "evidence": r.id == evidence,
        }
        for r in rows
    ]
