"""Bad input gets a clear 4xx with a stable code, and nothing is written."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlmodel import Session, func, select

from core.context import ServiceContext
from models.orders import Order, Receipt
from tests.processing.conftest import make_store, make_trader, new_currency, payin_body

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def order_count(ctx: ServiceContext) -> int:
    with Session(ctx.engine) as session:
        return session.exec(select(func.count()).select_from(Order)).one()


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        ("abc", "validation_error"),
        ("-10.00", "validation_error"),
        ("1e5", "validation_error"),
        (1500, "validation_error"),
        ("1500.001", "invalid_amount"),
        ("0.00", "validation_error"),  # the documented pattern: positive amounts only
        ("5.00", "amount_out_of_range"),
    ],
)
async def test_malformed_amounts(
    api: httpx.AsyncClient, ctx: ServiceContext, amount: object, code: str
) -> None:
    store = make_store(ctx, new_currency(ctx))
    before = order_count(ctx)
    body = {**payin_body(store.currency), "amount": amount}
    response = await api.post("/api/gateway/payins", json=body, headers=store.headers)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == code
    assert order_count(ctx) == before


async def test_unknown_and_unsupported_currency(
    api: httpx.AsyncClient, ctx: ServiceContext
) -> None:
    store = make_store(ctx, new_currency(ctx))
    before = order_count(ctx)
    unknown = await api.post("/api/gateway/payins", json=payin_body("QQQ"), headers=store.headers)
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "unknown_currency"
    other = await api.post("/api/gateway/payins", json=payin_body("RUB"), headers=store.headers)
    assert other.status_code == 422 and other.json()["error"]["code"] == "currency_not_supported"
    no_key = await api.post("/api/gateway/payins", json=payin_body(store.currency))
    assert no_key.status_code == 401
    assert order_count(ctx) == before


@pytest.mark.parametrize(
    ("content", "status", "code"),
    [
        (b"GIF89a" + b"\x00" * 64, 415, "unsupported_receipt_type"),
        (b"<html>not a receipt</html>", 415, "unsupported_receipt_type"),
        (PNG + b"\x00" * (5 * 1024 * 1024), 413, "receipt_too_large"),
    ],
)
async def test_bad_receipts_refused_before_storage(
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    worker: None,
    content: bytes,
    status: int,
    code: str,
) -> None:
    currency = new_currency(ctx)
    store = make_store(ctx, currency)
    await make_trader(api, ctx, currency)
    order = (
        await api.post("/api/gateway/payins", json=payin_body(currency), headers=store.headers)
    ).json()
    files = {"receipt": ("receipt.png", content, "image/png")}
    response = await api.post(
        f"/api/gateway/payins/{order['id']}/paid", files=files, headers=store.headers
    )
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    with Session(ctx.engine) as session:
        assert (
            session.exec(select(Receipt).where(Receipt.order_id == uuid.UUID(order["id"]))).first()
            is None
        )
    still = await api.get(f"/api/gateway/payins/{order['id']}", headers=store.headers)
    assert still.json()["status"] == "awaiting_payment"


async def test_good_receipt_stored_in_s3(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None
) -> None:
    currency = new_currency(ctx)
    store = make_store(ctx, currency)
    await make_trader(api, ctx, currency)
    order = (
        await api.post("/api/gateway/payins", json=payin_body(currency), headers=store.headers)
    ).json()
    pdf = b"%PDF-1.7\n" + b"x" * 100
    files = {"receipt": ("r.bin", pdf, "application/octet-stream")}
    response = await api.post(
        f"/api/gateway/payins/{order['id']}/paid", files=files, headers=store.headers
    )
    assert response.status_code == 200 and response.json()["status"] == "payment_claimed"
    with Session(ctx.engine) as session:
        receipt = session.exec(
            select(Receipt).where(Receipt.order_id == uuid.UUID(order["id"]))
        ).one()
    assert receipt.content_type == "application/pdf" and receipt.size_bytes == len(pdf)
    assert ctx.storage.get(receipt.s3_key) == pdf


async def test_requisite_numbers_masked_for_trader(
    api: httpx.AsyncClient, ctx: ServiceContext
) -> None:
    trader = await make_trader(api, ctx, new_currency(ctx), requisites=0)
    body = {
        "number": "4111 1111 1111 1234",
        "holder_name": "Anna Smirnova",
        "bank_code": "sber",
        "payment_method": "card",
        "currency": "RUB",
    }
    created = await api.post("/api/trader/requisites", json=body, headers=trader.headers)
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "pending"
    assert created.json()["number_masked"] == "****1234"
    assert "4111" not in created.text
    again = await api.post("/api/trader/requisites", json=body, headers=trader.headers)
    assert again.status_code == 409 and again.json()["error"]["code"] == "requisite_exists"
    bad_bank = await api.post(
        "/api/trader/requisites",
        json={**body, "number": "5555", "bank_code": "nope"},
        headers=trader.headers,
    )
    assert bad_bank.json()["error"]["code"] == "unknown_bank_code"
