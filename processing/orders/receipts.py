"""Payment receipts (customer's or trader's): checked by their bytes, stored in S3."""

from __future__ import annotations

import asyncio
import hashlib
import uuid

from sqlmodel import Session

from contracts.processing import ActorType
from core.context import ServiceContext
from core.errors import TooLarge, UnsupportedMedia
from models.orders import Receipt

MAX_RECEIPT_BYTES = 5 * 1024 * 1024
# Receipts are recognised by their first bytes, never by the client's content type.
RECEIPT_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"%PDF-", "application/pdf", "pdf"),
)


def receipt_type(data: bytes) -> tuple[str, str]:
    """(content type, file extension) of an accepted receipt; refuses before storing."""
    if len(data) > MAX_RECEIPT_BYTES:
        raise TooLarge("Receipt is larger than 5 MiB", code="receipt_too_large")
    for magic, content_type, ext in RECEIPT_SIGNATURES:
        if data.startswith(magic):
            return content_type, ext
    raise UnsupportedMedia(
        "Receipt must be a PNG, JPEG or PDF file", code="unsupported_receipt_type"
    )


async def store_receipt(
    ctx: ServiceContext,
    *,
    order_id: uuid.UUID,
    data: bytes,
    actor: ActorType,
    actor_id: str | None,
) -> uuid.UUID:
    """Put the file in S3, then record it against the order; returns the receipt id."""
    content_type, ext = receipt_type(data)
    receipt = Receipt(
        order_id=order_id,
        s3_key=f"receipts/{order_id}/{uuid.uuid4().hex}.{ext}",
        content_type=content_type,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_by_type=actor,
        uploaded_by_id=actor_id,
    )
    await asyncio.to_thread(ctx.storage.put, receipt.s3_key, data, content_type)

    def insert() -> None:
        with Session(ctx.engine, expire_on_commit=False) as session:
            session.add(receipt)
            session.commit()

    await asyncio.to_thread(insert)
    return receipt.id
