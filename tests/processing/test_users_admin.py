"""Administrators create and block accounts; every staff write is in the audit log with the
values before and after; a second administrator's view is the same log."""

from __future__ import annotations

import httpx

from core.context import ServiceContext
from models.users import Role
from tests.factories import create_user, login
from tests.processing.conftest import make_trader, new_currency


async def test_admin_creates_accounts_that_work(
    api: httpx.AsyncClient, ctx: ServiceContext, admin_headers: dict[str, str]
) -> None:
    created = await api.post(
        "/api/admin/users",
        json={"email": "New.Merchant@example.com", "role": "merchant", "merchant_name": "Shop"},
        headers=admin_headers,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["role"] == "merchant" and body["one_time_password"]
    one_time = body["one_time_password"]
    headers = await login(api, "new.merchant@example.com", one_time)
    # A one-time password opens nothing but its own replacement.
    me = (await api.get("/api/auth/me", headers=headers)).json()
    assert me["password_change_required"] is True
    refused = await api.post("/api/merchant/stores", json={"name": "S"}, headers=headers)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "password_change_required"
    for change, code in (
        (
            {"current_password": "wrong-password", "new_password": "n" * 12},
            "wrong_current_password",
        ),
        ({"current_password": one_time, "new_password": one_time}, "password_unchanged"),
        ({"current_password": one_time, "new_password": "short"}, "validation_error"),
    ):
        answer = await api.post("/api/auth/password", json=change, headers=headers)
        assert answer.status_code == 422 and answer.json()["error"]["code"] == code, answer.text
    changed = await api.post(
        "/api/auth/password",
        json={"current_password": one_time, "new_password": "merchant-own-pw"},
        headers=headers,
    )
    assert changed.status_code == 204, changed.text
    old = await api.post(
        "/api/auth/login", json={"email": "new.merchant@example.com", "password": one_time}
    )
    assert old.status_code == 401
    headers = await login(api, "new.merchant@example.com", "merchant-own-pw")
    assert (await api.get("/api/auth/me", headers=headers)).json()[
        "password_change_required"
    ] is False
    store = await api.post("/api/merchant/stores", json={"name": "S"}, headers=headers)
    assert store.status_code == 201, store.text
    listed = await api.get("/api/admin/users?role=merchant", headers=admin_headers)
    assert body["id"] in {u["id"] for u in listed.json()}
    assert "one_time_password" not in listed.text and "password_hash" not in listed.text

    trader = await api.post(
        "/api/admin/users",
        json={"email": f"t-{body['id'][:8]}@example.com", "role": "trader", "password": "x" * 12},
        headers=admin_headers,
    )
    assert trader.status_code == 201 and trader.json()["one_time_password"] is None
    assert trader.json()["password_change_required"] is False
    trader_headers = await login(api, trader.json()["email"], "x" * 12)
    assert (await api.post("/api/trader/online", headers=trader_headers)).status_code == 200

    twice = await api.post(
        "/api/admin/users",
        json={"email": "new.merchant@example.com", "role": "support"},
        headers=admin_headers,
    )
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "email_taken"
    connect = await api.post(
        "/api/admin/users",
        json={"email": "c@example.com", "role": "connect_user"},
        headers=admin_headers,
    )
    assert connect.status_code == 422


async def test_a_blocked_merchant_loses_tokens_and_store_keys(
    api: httpx.AsyncClient, ctx: ServiceContext, admin_headers: dict[str, str]
) -> None:
    created = (
        await api.post(
            "/api/admin/users",
            json={"email": "blocked@example.com", "role": "merchant", "password": "p" * 12},
            headers=admin_headers,
        )
    ).json()
    headers = await login(api, "blocked@example.com", "p" * 12)
    store = (await api.post("/api/merchant/stores", json={"name": "S"}, headers=headers)).json()
    key = {"X-API-Key": store["api_key"]}
    assert (
        await api.get("/api/gateway/payins/by-merchant-order/x", headers=key)
    ).status_code == 404

    blocked = await api.post(f"/api/admin/users/{created['id']}/block", headers=admin_headers)
    assert blocked.status_code == 200 and blocked.json()["is_active"] is False
    assert (await api.get("/api/merchant/stores", headers=headers)).status_code == 401
    assert (
        await api.get("/api/gateway/payins/by-merchant-order/x", headers=key)
    ).status_code == 401
    unblocked = await api.post(f"/api/admin/users/{created['id']}/unblock", headers=admin_headers)
    assert unblocked.json()["is_active"] is True
    assert (await api.get("/api/merchant/stores", headers=headers)).status_code == 200

    me = (await api.get("/api/auth/me", headers=admin_headers)).json()
    myself = await api.post(f"/api/admin/users/{me['id']}/block", headers=admin_headers)
    assert myself.status_code == 422
    merchant = create_user(ctx.engine, Role.merchant)
    not_admin = await api.post(
        f"/api/admin/users/{created['id']}/block", headers=await login(api, merchant.email)
    )
    assert not_admin.status_code == 403


async def test_staff_writes_are_audited_with_before_and_after(
    api: httpx.AsyncClient, ctx: ServiceContext, admin_headers: dict[str, str]
) -> None:
    trader = await make_trader(api, ctx, new_currency(ctx))
    me = (await api.get("/api/auth/me", headers=admin_headers)).json()
    changed = await api.patch(
        f"/api/admin/traders/{trader.trader_id}",
        json={"priority": 7, "payin_reward_bps": 90},
        headers=admin_headers,
    )
    assert changed.status_code == 200, changed.text
    entries = (
        await api.get(f"/api/admin/audit?target_id={trader.trader_id}", headers=admin_headers)
    ).json()
    assert len(entries) == 1
    [entry] = entries
    assert entry["actor_user_id"] == me["id"]
    assert entry["action"] == "PATCH /api/admin/traders/{trader_id}"
    assert entry["target_type"] == "Trader"
    assert entry["before"] == {"priority": 100, "payin_reward_bps": 100}
    assert entry["after"] == {"priority": 7, "payin_reward_bps": 90}

    created = await api.post(
        "/api/admin/users",
        json={"email": "audited@example.com", "role": "support", "password": "s" * 12},
        headers=admin_headers,
    )
    user_entries = (
        await api.get(f"/api/admin/audit?target_id={created.json()['id']}", headers=admin_headers)
    ).json()
    assert [e["target_type"] for e in user_entries] == ["User"]
    assert "password_hash" not in user_entries[0]["after"]
    assert user_entries[0]["after"]["email"] == "audited@example.com"
    support = await login(api, "audited@example.com", "s" * 12)
    assert (await api.get("/api/admin/audit", headers=support)).status_code == 403
