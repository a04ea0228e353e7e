"""Run-time controls of the emulator: added transactions, faults, token expiry, reset."""

from __future__ import annotations

import httpx

from tests.bank_emulator.helpers import ADMIN, consent


async def test_admin_needs_its_token(emulator: httpx.AsyncClient) -> None:
    response = await emulator.post("/vbank/admin/reset", headers={"X-Emulator-Admin": "nope"})
    assert response.status_code == 403


async def test_added_transaction_shows_up_first_and_can_be_booked(
    emulator: httpx.AsyncClient,
) -> None:
    headers, _ = await consent(emulator, "vbank", "team042-1")
    body = {
        "client_id": "team042-1",
        "account_id": "acc-1011",
        "transactions": [
            {
                "amount": "499.90",
                "status": "Pending",
                "information": "🛒 Продукты",
                "merchant_name": "Пятёрочка",
                "mcc": "5411",
                "card_masked": "****1234",
                "booking_date_time": "2030-01-01T10:00:00Z",
            },
        ],
    }
    added = await emulator.post("/vbank/admin/transactions", json=body, headers=ADMIN)
    (tx_id,) = added.json()["transaction_ids"]
    path = "/vbank/accounts/acc-1011/transactions"
    newest = (await emulator.get(path, headers=headers)).json()["data"]["transaction"][0]
    assert newest["transactionId"] == tx_id and newest["status"] == "Pending"
    assert newest["amount"] == {"amount": "499.90", "currency": "RUB"}
    assert newest["creditDebitIndicator"] == "Debit"

    change = {"client_id": "team042-1", "status": "Booked"}
    await emulator.patch(f"/vbank/admin/transactions/{tx_id}", json=change, headers=ADMIN)
    newest = (await emulator.get(path, headers=headers)).json()["data"]["transaction"][0]
    assert newest["status"] == "Booked"


async def test_fail_next_n_then_recover(emulator: httpx.AsyncClient) -> None:
    faults = {"fail_next_429": 2, "fail_next_5xx": 1, "retry_after_s": 3}
    await emulator.post("/abank/admin/faults", json=faults, headers=ADMIN)
    statuses = []
    for _ in range(4):
        response = await emulator.get("/abank/products")
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert response.headers["Retry-After"] == "3"
    assert statuses == [429, 429, 503, 401]
    stats = (await emulator.get("/abank/admin/stats", headers=ADMIN)).json()["stats"]
    assert stats["faults_429"] == 2 and stats["faults_503"] == 1


async def test_fault_rate_is_reproducible(emulator: httpx.AsyncClient) -> None:
    async def run() -> list[int]:
        await emulator.post("/sbank/admin/reset", headers=ADMIN)
        await emulator.post("/sbank/admin/faults", json={"rate_5xx": 0.5}, headers=ADMIN)
        return [(await emulator.get("/sbank/products")).status_code for _ in range(20)]

    first = await run()
    assert 503 in first and 401 in first
    assert await run() == first


async def test_expired_tokens_are_refused(emulator: httpx.AsyncClient) -> None:
    headers, _ = await consent(emulator, "vbank", "team042-1")
    params = {"client_id": "team042-1"}
    assert (
        await emulator.get("/vbank/accounts", params=params, headers=headers)
    ).status_code == 200
    expired = await emulator.post("/vbank/admin/tokens/expire", headers=ADMIN)
    assert expired.json()["expired"] >= 1
    response = await emulator.get("/vbank/accounts", params=params, headers=headers)
    assert response.status_code == 401


async def test_admin_revokes_all_consents_of_a_client(emulator: httpx.AsyncClient) -> None:
    headers, _ = await consent(emulator, "vbank", "team042-4")
    revoke = await emulator.post(
        "/vbank/admin/consents/revoke", json={"client_id": "team042-4"}, headers=ADMIN
    )
    assert revoke.json() == {"revoked": 1}
    response = await emulator.get(
        "/vbank/accounts", params={"client_id": "team042-4"}, headers=headers
    )
    assert response.json()["detail"]["error"] == "CONSENT_REQUIRED"


async def test_approval_mode_switch_and_reset(emulator: httpx.AsyncClient) -> None:
    await emulator.post("/vbank/admin/approval-mode", json={"mode": "manual"}, headers=ADMIN)
    headers, _ = await consent(emulator, "vbank", "team042-1")
    stats = (await emulator.get("/vbank/admin/stats", headers=ADMIN)).json()["stats"]
    assert stats["logins"] == 1
    await emulator.post("/vbank/admin/reset", headers=ADMIN)
    assert (await emulator.get("/vbank/admin/stats", headers=ADMIN)).json()["stats"] == {}
    response = await emulator.get(
        "/vbank/accounts", params={"client_id": "team042-1"}, headers=headers
    )
    assert response.status_code == 403


async def test_scale_multiplies_history(emulator: httpx.AsyncClient) -> None:
    before = (await emulator.get("/vbank/admin/clients/team042-7", headers=ADMIN)).json()
    await emulator.post(
        "/vbank/admin/scale", json={"tx_multiplier": 20, "client_id": "team042-7"}, headers=ADMIN
    )
    after = (await emulator.get("/vbank/admin/clients/team042-7", headers=ADMIN)).json()
    count_before = before["accounts"][0]["transactions"]
    count_after = after["accounts"][0]["transactions"]
    assert count_after > 10 * count_before > 2000


async def test_health_lists_the_banks(emulator: httpx.AsyncClient) -> None:
    body = (await emulator.get("/health")).json()
    assert body["status"] == "ok" and body["banks"] == ["abank", "sbank", "vbank"]
