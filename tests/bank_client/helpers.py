"""Admin controls of the running emulator and a consent step shared by the client tests."""

from __future__ import annotations

from typing import Any

import httpx

from banks import BankClient

BANKS = ("vbank", "abank", "sbank")
SECRET = "emulator-team-secret"
ADMIN = {"X-Emulator-Admin": "emulator-admin"}


class EmulatorAdmin:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def _post(self, bank: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = await self.http.post(f"/{bank}/admin/{path}", json=body, headers=ADMIN)
        response.raise_for_status()
        return response.json()

    async def reset(self, bank: str) -> None:
        await self._post(bank, "reset")

    async def faults(self, bank: str, **faults: Any) -> None:
        await self._post(bank, "faults", faults)

    async def behaviour(self, bank: str, **options: Any) -> None:
        await self._post(bank, "behaviour", options)

    async def expire_tokens(self, bank: str) -> None:
        await self._post(bank, "tokens/expire")

    async def revoke_client_consents(self, bank: str, client_id: str) -> None:
        await self._post(bank, "consents/revoke", {"client_id": client_id})

    async def add_transactions(
        self, bank: str, client_id: str, account_id: str, items: list[dict[str, Any]]
    ) -> list[str]:
        body = {"client_id": client_id, "account_id": account_id, "transactions": items}
        ids: list[str] = (await self._post(bank, "transactions", body))["transaction_ids"]
        return ids

    async def stats(self, bank: str) -> dict[str, int]:
        response = await self.http.get(f"/{bank}/admin/stats", headers=ADMIN)
        stats: dict[str, int] = response.json()["stats"]
        return stats

    async def client_summary(self, bank: str, client_id: str) -> dict[str, Any]:
        response = await self.http.get(f"/{bank}/admin/clients/{client_id}", headers=ADMIN)
        summary: dict[str, Any] = response.json()
        return summary


async def granted_consent(client: BankClient, external_client_id: str) -> str:
    """An authorised account consent: auto-approved, or signed as the user when pending."""
    result = await client.request_account_consent(external_client_id)
    if result.consent_id is not None:
        return result.consent_id
    signed = await client.sign_account_consent(external_client_id, SECRET, result.request_id)
    assert signed.consent_id is not None
    return signed.consent_id
