"""Shared steps of the emulator tests: settings, bank token, consent (signed when needed)."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx

from bank_emulator.config import EmulatorSettings

ANCHOR = date(2025, 6, 15)
SECRET = "emulator-team-secret"
ADMIN = {"X-Emulator-Admin": "emulator-admin"}
PERMISSIONS = ["ReadAccountsDetail", "ReadBalances", "ReadTransactionsDetail", "ReadCards"]


def settings(**overrides: Any) -> EmulatorSettings:
    return EmulatorSettings(**{"anchor_date": ANCHOR, "seed": 42, **overrides})


async def bank_token(http: httpx.AsyncClient, bank: str) -> dict[str, str]:
    """Headers with a fresh bank token of `bank`."""
    params = {"client_id": "team042", "client_secret": SECRET}
    response = await http.post(f"/{bank}/auth/bank-token", params=params)
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    return {"Authorization": f"Bearer {token}", "X-Requesting-Bank": "team042"}


async def consent(
    http: httpx.AsyncClient, bank: str, client_id: str, permissions: list[str] = PERMISSIONS
) -> tuple[dict[str, str], str]:
    """(headers with token and X-Consent-Id, consent id), signing when the bank asks to."""
    headers = await bank_token(http, bank)
    body = {
        "client_id": client_id,
        "permissions": permissions,
        "reason": "tests",
        "requesting_bank": "team042",
        "requesting_bank_name": "JivaPay",
    }
    answer = (
        await http.post(f"/{bank}/account-consents/request", json=body, headers=headers)
    ).json()
    consent_id = answer.get("consent_id")
    if consent_id is None:
        login = await http.post(
            f"/{bank}/auth/login", json={"username": client_id, "password": SECRET}
        )
        user = {"Authorization": f"Bearer {login.json()['access_token']}"}
        sign = {"request_id": answer["request_id"], "action": "approve", "signature": "password"}
        consent_id = (
            await http.post(f"/{bank}/account-consents/sign", json=sign, headers=user)
        ).json()["consent_id"]
    return {**headers, "X-Consent-Id": consent_id}, consent_id
