"""Store API keys: shown once, stored hashed, rotate, authenticate the gateway."""

from __future__ import annotations

import uuid

import httpx
from sqlmodel import Session, select

from core.context import ServiceContext
from core.security import hash_api_key
from models.merchants import Store
from models.users import Role
from tests.factories import actor


async def test_store_key_shown_once_and_stored_hashed(
    api: httpx.AsyncClient, ctx: ServiceContext
) -> None:
    merchant = await actor(api, ctx.engine, Role.merchant)
    created = await api.post(
        "/api/merchant/stores",
        json={"name": "Main", "callback_url": "https://93.184.215.14/cb"},
        headers=merchant.headers,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    api_key, signing_secret = body["api_key"], body["signing_secret"]
    assert api_key.startswith("jp_live_") and signing_secret.startswith("whsec_")

    with Session(ctx.engine) as session:
        row = session.exec(select(Store).where(Store.id == uuid.UUID(body["id"]))).one()
        assert row.api_key_hash == hash_api_key(api_key)
        assert api_key not in row.model_dump_json()
        assert signing_secret not in row.signing_secret_encrypted
        assert ctx.secrets.decrypt(row.signing_secret_encrypted) == signing_secret

    # The key authenticates its store at the gateway (a 404 for an unknown order, not a 401).
    probe = await api.get(
        "/api/gateway/payins/by-merchant-order/none", headers={"X-API-Key": api_key}
    )
    assert probe.status_code == 404, probe.text

    listed = await api.get("/api/merchant/stores", headers=merchant.headers)
    assert listed.status_code == 200
    assert [s["id"] for s in listed.json()] == [body["id"]]
    assert "api_key" not in listed.json()[0] and "signing_secret" not in listed.json()[0]
    assert api_key not in listed.text and signing_secret not in listed.text


async def test_rotate_key_invalidates_old_key(api: httpx.AsyncClient, ctx: ServiceContext) -> None:
    merchant = await actor(api, ctx.engine, Role.merchant)
    store = (
        await api.post("/api/merchant/stores", json={"name": "Rot"}, headers=merchant.headers)
    ).json()
    rotated = await api.post(
        f"/api/merchant/stores/{store['id']}/rotate-key", headers=merchant.headers
    )
    assert rotated.status_code == 200
    assert rotated.json()["api_key"] != store["api_key"]
    assert "signing_secret" not in rotated.json()  # shown once, at creation
    assert store["signing_secret"] not in rotated.text
    with Session(ctx.engine) as session:
        found = session.exec(
            select(Store).where(Store.api_key_hash == hash_api_key(store["api_key"]))
        ).first()
        assert found is None


async def test_other_merchants_store_is_404(api: httpx.AsyncClient, ctx: ServiceContext) -> None:
    owner = await actor(api, ctx.engine, Role.merchant)
    stranger = await actor(api, ctx.engine, Role.merchant)
    store = (
        await api.post("/api/merchant/stores", json={"name": "Mine"}, headers=owner.headers)
    ).json()
    response = await api.post(
        f"/api/merchant/stores/{store['id']}/rotate-key", headers=stranger.headers
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "store_not_found"


async def test_invalid_store_settings_rejected(api: httpx.AsyncClient, ctx: ServiceContext) -> None:
    merchant = await actor(api, ctx.engine, Role.merchant)
    response = await api.post(
        "/api/merchant/stores",
        json={"name": "Bad", "payin_fee_bps": -5, "currency": "rubles"},
        headers=merchant.headers,
    )
    assert response.status_code == 422
    fields = {item["loc"][-1] for item in response.json()["error"]["details"]}
    assert {"payin_fee_bps", "currency"} <= fields


async def test_rotate_signing_secret_keeps_the_old_one_during_the_overlap(
    api: httpx.AsyncClient, ctx: ServiceContext
) -> None:
    merchant = await actor(api, ctx.engine, Role.merchant)
    store = (
        await api.post("/api/merchant/stores", json={"name": "Sig"}, headers=merchant.headers)
    ).json()
    url = f"/api/merchant/stores/{store['id']}/rotate-signing-secret"
    rotated = await api.post(url, json={"overlap_hours": 2}, headers=merchant.headers)
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["signing_secret"]
    assert new_secret != store["signing_secret"]
    assert rotated.json()["previous_signing_secret_expires_at"] is not None
    with Session(ctx.engine) as session:
        row = session.exec(select(Store).where(Store.id == uuid.UUID(store["id"]))).one()
        assert ctx.secrets.decrypt(row.signing_secret_encrypted) == new_secret
        assert row.previous_signing_secret_encrypted is not None
        assert ctx.secrets.decrypt(row.previous_signing_secret_encrypted) == store["signing_secret"]

    immediate = await api.post(url, json={"overlap_hours": 0}, headers=merchant.headers)
    assert immediate.json()["previous_signing_secret_expires_at"] is None
    too_long = await api.post(url, json={"overlap_hours": 1000}, headers=merchant.headers)
    assert too_long.status_code == 422
    stranger = await actor(api, ctx.engine, Role.merchant)
    assert (await api.post(url, headers=stranger.headers)).status_code == 404
