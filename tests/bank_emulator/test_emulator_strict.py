"""The emulator is as strict as the real bank code by default (the spec's verified facts);
the friendlier behaviour of a copy exists only behind `friendly`."""

from __future__ import annotations

import httpx

from tests.bank_emulator.helpers import ADMIN, PERMISSIONS, SECRET, bank_token
from tests.bank_emulator.test_emulator_data import product_consent


async def _pending_request(http: httpx.AsyncClient, client_id: str) -> tuple[dict[str, str], str]:
    headers = await bank_token(http, "sbank")
    body = {"client_id": client_id, "permissions": PERMISSIONS, "reason": "t"}
    answer = (await http.post("/sbank/account-consents/request", json=body, headers=headers)).json()
    assert answer["status"] == "pending" and "consent_id" not in answer
    return headers, answer["request_id"]


async def _user_token(http: httpx.AsyncClient, bank: str, client_id: str) -> dict[str, str]:
    login = await http.post(f"/{bank}/auth/login", json={"username": client_id, "password": SECRET})
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


async def test_polling_a_request_id_never_turns_authorized(emulator: httpx.AsyncClient) -> None:
    headers, request_id = await _pending_request(emulator, "team042-3")
    decided = await emulator.post(
        "/sbank/admin/consents/decide", json={"request_id": request_id}, headers=ADMIN
    )
    assert decided.json()["status"] == "Authorized"
    polled = (await emulator.get(f"/sbank/account-consents/{request_id}", headers=headers)).json()
    assert polled["data"]["status"] == "AwaitingAuthorization"
    assert polled["data"]["consentId"] == request_id


async def test_a_probe_sees_the_approval_the_poll_hides(emulator: httpx.AsyncClient) -> None:
    headers, request_id = await _pending_request(emulator, "team042-4")
    params = {"client_id": "team042-4"}
    before = await emulator.get("/sbank/accounts", params=params, headers=headers)
    assert before.status_code == 403 and before.json()["detail"]["error"] == "CONSENT_REQUIRED"
    await emulator.post(
        "/sbank/admin/consents/decide", json={"request_id": request_id}, headers=ADMIN
    )
    bare = await emulator.get("/sbank/accounts", params=params, headers=headers)
    assert bare.status_code == 200 and bare.json()["data"]["account"]
    by_request = await emulator.get(
        "/sbank/accounts", params=params, headers={**headers, "X-Consent-Id": request_id}
    )
    assert by_request.status_code == 200
    # Another client's data stays closed to the same team token.
    other = await emulator.get(
        "/sbank/accounts", params={"client_id": "team042-5"}, headers=headers
    )
    assert other.status_code == 403


async def test_agreement_consents_have_no_sign_route(emulator: httpx.AsyncClient) -> None:
    await emulator.post("/vbank/admin/approval-mode", json={"mode": "manual"}, headers=ADMIN)
    pa = await product_consent(emulator, "vbank", "team042-6")
    assert pa["status"] == "pending" and pa["consent_id"] is None
    user = await _user_token(emulator, "vbank", "team042-6")
    sign = {"request_id": pa["request_id"], "action": "approve", "signature": "password"}
    response = await emulator.post(
        "/vbank/product-agreement-consents/sign", json=sign, headers=user
    )
    assert response.status_code == 405


async def test_agreement_consents_are_read_only_with_a_client_token(
    emulator: httpx.AsyncClient,
) -> None:
    pa = await product_consent(emulator, "vbank", "team042-7")
    path = f"/vbank/product-agreement-consents/{pa['consent_id']}"
    as_team = await emulator.get(path, headers=pa["headers"])
    assert as_team.status_code == 401
    assert as_team.json() == {"detail": "Insufficient permissions"}
    as_user = await emulator.get(path, headers=await _user_token(emulator, "vbank", "team042-7"))
    assert as_user.status_code == 200 and as_user.json()["status"] == "approved"
    stranger = await emulator.get(path, headers=await _user_token(emulator, "vbank", "team042-8"))
    assert stranger.status_code == 403


async def test_the_agreements_route_can_crash(emulator: httpx.AsyncClient) -> None:
    pa = await product_consent(emulator, "abank", "team042-2")
    headers = {**pa["headers"], "X-Product-Agreement-Consent-Id": pa["consent_id"]}
    params = {"client_id": "team042-2"}
    assert (
        await emulator.get("/abank/product-agreements", params=params, headers=headers)
    ).is_success
    await emulator.post("/abank/admin/behaviour", json={"agreements_crash": True}, headers=ADMIN)
    crashed = await emulator.get("/abank/product-agreements", params=params, headers=headers)
    assert crashed.status_code == 500


async def test_the_friendly_switch_restores_the_kinder_copy(emulator: httpx.AsyncClient) -> None:
    await emulator.post("/sbank/admin/behaviour", json={"friendly": True}, headers=ADMIN)
    headers, request_id = await _pending_request(emulator, "team042-9")
    await emulator.post(
        "/sbank/admin/consents/decide", json={"request_id": request_id}, headers=ADMIN
    )
    polled = (await emulator.get(f"/sbank/account-consents/{request_id}", headers=headers)).json()
    assert polled["data"]["status"] == "Authorized"
    assert polled["data"]["consentId"].startswith("consent-")
    pa = await product_consent(emulator, "sbank", "team042-9")
    path = f"/sbank/product-agreement-consents/{pa['request_id']}"
    assert (await emulator.get(path, headers=pa["headers"])).status_code == 200


async def _approved_request(http: httpx.AsyncClient, client_id: str) -> tuple[dict[str, str], str]:
    """A request approved in the bank's own UI: the team holds only its request id."""
    headers, request_id = await _pending_request(http, client_id)
    decided = await http.post(
        "/sbank/admin/consents/decide", json={"request_id": request_id}, headers=ADMIN
    )
    assert decided.json()["status"] == "Authorized"
    return headers, request_id


async def test_a_revoke_by_request_id_is_404_and_revokes_nothing(
    emulator: httpx.AsyncClient,
) -> None:
    headers, request_id = await _approved_request(emulator, "team042-3")
    revoked = await emulator.delete(f"/sbank/account-consents/{request_id}", headers=headers)
    assert revoked.status_code == 404
    params = {"client_id": "team042-3"}
    still = await emulator.get("/sbank/accounts", params=params, headers=headers)
    assert still.status_code == 200


async def test_two_active_consents_break_the_data_routes_until_one_is_revoked(
    emulator: httpx.AsyncClient,
) -> None:
    headers, _ = await _approved_request(emulator, "team042-4")
    params = {"client_id": "team042-4"}
    assert (await emulator.get("/sbank/accounts", params=params, headers=headers)).is_success
    await _approved_request(emulator, "team042-4")
    broken = await emulator.get("/sbank/accounts", params=params, headers=headers)
    assert broken.status_code == 500
    user = await _user_token(emulator, "sbank", "team042-4")
    listed = (await emulator.get("/sbank/account-consents/my-consents", headers=user)).json()
    active = [c for c in listed["consents"] if c["status"] == "Authorized"]
    assert len(active) == 2 and {c["granted_to"] for c in active} == {"team042"}
    gone = await emulator.delete(
        f"/sbank/account-consents/{active[0]['consent_id']}", headers=headers
    )
    assert gone.status_code == 204
    assert (await emulator.get("/sbank/accounts", params=params, headers=headers)).is_success


async def test_a_build_without_the_users_consent_list(emulator: httpx.AsyncClient) -> None:
    user = await _user_token(emulator, "sbank", "team042-5")
    listed = await emulator.get("/sbank/account-consents/my-consents", headers=user)
    assert listed.status_code == 200 and listed.json() == {"consents": []}
    await emulator.post("/sbank/admin/behaviour", json={"user_consent_list": False}, headers=ADMIN)
    missing = await emulator.get("/sbank/account-consents/my-consents", headers=user)
    assert missing.status_code == 404
    headers = await bank_token(emulator, "sbank")
    as_team = await emulator.get("/sbank/account-consents/my-consents", headers=headers)
    assert as_team.status_code == 401  # the user's own list: a client token only


async def test_an_agreement_approval_shows_in_a_data_call_not_in_its_request(
    emulator: httpx.AsyncClient,
) -> None:
    pa = await product_consent(emulator, "sbank", "team042-6")
    assert pa["status"] == "pending"
    params = {"client_id": "team042-6"}
    probe = {**pa["headers"], "X-Product-Agreement-Consent-Id": pa["request_id"]}
    before = await emulator.get("/sbank/product-agreements", params=params, headers=probe)
    assert before.status_code == 403
    await emulator.post(
        "/sbank/admin/consents/decide", json={"request_id": pa["request_id"]}, headers=ADMIN
    )
    after = await emulator.get("/sbank/product-agreements", params=params, headers=probe)
    assert after.status_code == 200 and after.json()["data"]
    bare = await emulator.get("/sbank/product-agreements", params=params, headers=pa["headers"])
    assert bare.status_code == 403  # their own header, always
    user = await _user_token(emulator, "sbank", "team042-6")
    read = await emulator.get(f"/sbank/product-agreement-consents/{pa['request_id']}", headers=user)
    assert read.json()["status"] == "pending" and read.json()["consent_id"] is None
    other = await emulator.get(
        "/sbank/product-agreements", params={"client_id": "team042-7"}, headers=probe
    )
    assert other.status_code == 403
