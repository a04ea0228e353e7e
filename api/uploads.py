"""Uploaded files, read with a bound: a client cannot make us buffer more than the limit."""

from __future__ import annotations

from fastapi import UploadFile

from processing.orders.receipts import MAX_RECEIPT_BYTES


async def read_upload(upload: UploadFile | None, limit: int = MAX_RECEIPT_BYTES) -> bytes | None:
    """At most `limit + 1` bytes (one more than allowed, so the service can refuse it)."""
    if upload is None:
        return None
    return await upload.read(limit + 1)
