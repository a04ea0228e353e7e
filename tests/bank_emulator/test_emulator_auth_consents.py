"""Bank tokens, logins and account consents of the emulator, on the wire."""

from __future__ import annotations

import httpx
import pytest

from tests.bank_emulator.helpers import PERMISSIONS, SECRET, bank_token, consent


@pytest.mark.parametrize(
    ("client_id", "client_secret", "detail"),
    [("team999", SECRET, "Invalid client_id"), ("team042", "wrong", "Invalid client_secret")],
)
async def test_bank_token_refuses_wrong_credentials(
    emulator: httpx.AsyncClient, client_id: str, client_secret: str, detail: str
) -> None:
    params = {"client_id": client_id, "client_secret": client_secret}
    response = await emulator.post("/vbank/auth/bank-token", params=params)
    assert response.status_code == 401
    assert response.json() == {"detail": detail}


async def test_bank_token_shape_and_each_bank_accepts_only_its_own(
    emulator: httpx.AsyncClient,
) -> None:
    params = {"client_id": "team042", "client_secret": SECRET}
    body = (await emulator.post("/vbank/auth/bank-token", params=params)).json()
    assert body["token_type"] == "bearer" and body["algorithm"] == "HS256"
    assert body["client_id"] == "team042" and body["expires_in"] == 86400
    assert body["access_token"].count(".") == 2
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    products = await emulator.get("/vbank/products", headers=headers)
    foreign = await emulator.get("/abank/products", headers=headers)
    assert products.status_code == 200
    assert foreign.status_code == 401


async def test_auto_bank_approves_at_once(emulator: httpx.AsyncClient) -> None:
    headers = await bank_token(emulator, "vbank")
    body = {"client_id": "team042-1", "permissions": PERMISSIONS, "reason": "t"}
    answer = (
        await emulator.post("/vbank/account-consents/request", json=body, headers=headers)
    ).json()
    assert answer["status"] == "approved" and answer["auto_approved"] is True
    assert answer["consent_id"].startswith("consent-") and answer["request_id"].startswith("req-")
    read = (
        await emulator.get(f"/vbank/account-consents/{answer['consent_id']}", headers=headers)
    ).json()
    assert read["data"]["status"] == "Authorized"
    assert read["data"]["permissions"] == PERMISSIONS
    assert set(read) == {"data", "links", "meta"}


async def test_manual_bank_waits_for_the_signature(emulator: httpx.AsyncClient) -> None:
    headers = await bank_token(emulator, "sbank")
    body = {"client_id": "team042-2", "permissions": PERMISSIONS, "reason": "t"}
    answer = (
        await emulator.post("/sbank/account-consents/request", json=body, headers=headers)
    ).json()
    assert answer["status"] == "pending" and answer["auto_approved"] is False
    assert "consent_id" not in answer
    request_id = answer["request_id"]
    polled = (await emulator.get(f"/sbank/account-consents/{request_id}", headers=headers)).json()
    assert polled["data"] == polled["data"] | {
        "consentId": request_id,
        "status": "AwaitingAuthorization",
    }

    login = await emulator.post(
        "/sbank/auth/login", json={"username": "team042-2", "password": SECRET}
    )
    user = {"Authorization": f"Bearer {login.json()['access_token']}"}
    sign = {"request_id": request_id, "action": "approve", "signature": "password"}
    signed = (await emulator.post("/sbank/account-consents/sign", json=sign, headers=user)).json()
    assert signed["status"] == "approved" and signed["consent_id"].startswith("consent-")
    assert signed["granted_to"] == "team042"
    again = await emulator.post("/sbank/account-consents/sign", json=sign, headers=user)
    assert again.status_code == 409


async def test_a_user_cannot_sign_someone_elses_request(emulator: httpx.AsyncClient) -> None:
    headers = await bank_token(emulator, "sbank")
    body = {"client_id": "team042-3", "permissions": PERMISSIONS}
    answer = (
        await emulator.post("/sbank/account-consents/request", json=body, headers=headers)
    ).json()
    login = await emulator.post(
        "/sbank/auth/login", json={"username": "team042-4", "password": SECRET}
    )
    user = {"Authorization": f"Bearer {login.json()['access_token']}"}
    sign = {"request_id": answer["request_id"], "action": "approve", "signature": "password"}
    response = await emulator.post("/sbank/account-consents/sign", json=sign, headers=user)
    assert response.status_code == 403


async def test_login_with_a_wrong_password_is_refused(emulator: httpx.AsyncClient) -> None:
    response = await emulator.post(
        "/sbank/auth/login", json={"username": "team042-1", "password": "x"}
    )
    assert response.status_code == 401


async def test_consent_required_shapes(emulator: httpx.AsyncClient) -> None:
    headers, consent_id = await consent(emulator, "vbank", "team042-1")
    without_client = await emulator.get("/vbank/accounts", headers=headers)
    assert without_client.status_code == 400
    assert without_client.json() == {"detail": "client_id required for interbank requests"}

    bare = {k: v for k, v in headers.items() if k != "X-Consent-Id"}
    missing = await emulator.get("/vbank/accounts", params={"client_id": "team042-9"}, headers=bare)
    assert missing.status_code == 403
    detail = missing.json()["detail"]
    assert detail["error"] == "CONSENT_REQUIRED"
    assert detail["consent_request_url"] == "/account-consents/request"

    other = await emulator.get(
        "/vbank/accounts", params={"client_id": "team042-2"}, headers=headers
    )
    assert other.status_code == 403

    revoked = await emulator.delete(f"/vbank/account-consents/{consent_id}", headers=headers)
    assert revoked.status_code == 204
    after = await emulator.get(
        "/vbank/accounts", params={"client_id": "team042-1"}, headers=headers
    )
    assert after.status_code == 403
    status = await emulator.get(f"/vbank/account-consents/{consent_id}", headers=headers)
    assert status.json()["data"]["status"] == "Revoked"


async def test_a_permission_outside_the_consent_is_refused(emulator: httpx.AsyncClient) -> None:
    headers, _ = await consent(emulator, "vbank", "team042-1", ["ReadAccountsDetail"])
    accounts = await emulator.get(
        "/vbank/accounts", params={"client_id": "team042-1"}, headers=headers
    )
    account_id = accounts.json()["data"]["account"][0]["accountId"]
    balances = await emulator.get(f"/vbank/accounts/{account_id}/balances", headers=headers)
    assert balances.status_code == 403
    assert balances.json()["detail"]["error"] == "CONSENT_REQUIRED"
