"""Consent calls: account-access consents and product-agreement consents.

Requesting (the bank may approve at once or leave it to the user), polling, sandbox signing
as the user, and revoking. Consent ids are what the data calls of `banks.data` present.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

from banks.auth import BankAuth
from banks.errors import BankNotFoundError, ConsentRequiredError
from banks.parsing import (
    as_dict,
    parse_account_consent,
    parse_consent_request,
    parse_product_consent,
    parse_product_consent_request,
    parse_sign_result,
    parse_user_consents,
)
from banks.transport import BankRequest
from banks.wire import (
    AccountConsent,
    ConsentRequestResult,
    ConsentSignResult,
    ProductAgreementConsent,
    ProductConsentRequestResult,
    UserConsent,
)

DEFAULT_PERMISSIONS = ("ReadAccountsDetail", "ReadBalances", "ReadTransactionsDetail")
DEFAULT_PRODUCT_TYPES = ("deposit", "card", "loan")


class ConsentCalls(BankAuth):
    """Asking for, reading, signing and revoking a user's consents at this bank."""

    # Set up by `BankClient.__init__`.
    requesting_bank_name: str

    # -- account consents ----------------------------------------------------------------

    async def request_account_consent(
        self,
        external_client_id: str,
        permissions: Sequence[str] = DEFAULT_PERMISSIONS,
        reason: str = "Personal finance aggregation",
    ) -> ConsentRequestResult:
        """Ask for account access; `consent_id` is set only when the bank approved at once."""
        body = {
            "client_id": external_client_id,
            "permissions": list(permissions),
            "reason": reason,
            "requesting_bank": self.client_id,
            "requesting_bank_name": self.requesting_bank_name,
        }
        request = BankRequest(
            "POST",
            "/account-consents/request",
            body=body,
            idempotent=False,
            external_client_id=external_client_id,
        )
        return parse_consent_request(as_dict(await self._json(request)))

    async def get_account_consent(self, consent_or_request_id: str) -> AccountConsent:
        """A consent's status; by request id the bank may echo it with AwaitingAuthorization."""
        request = BankRequest("GET", f"/account-consents/{quote(consent_or_request_id, safe='')}")
        return parse_account_consent(as_dict(await self._json(request)))

    async def probe_account_access(
        self, external_client_id: str, request_id: str | None = None
    ) -> bool:
        """Whether the bank now holds an active account consent of this user for us.

        A cheap data call, first without `X-Consent-Id`, then with the request id (if any):
        200 once the user approved (at the bank, where nothing tells us the new consent id),
        403 CONSENT_REQUIRED before and after a revoke. With two active consents the real
        bank answers 500 (`BankUnavailableError`): it still holds them.
        """
        tries: list[dict[str, str]] = [{}]
        if request_id:
            tries.append({"X-Consent-Id": request_id})
        for headers in tries:
            request = BankRequest(
                "GET",
                "/accounts",
                params={"client_id": external_client_id},
                headers=headers,
                external_client_id=external_client_id,
            )
            try:
                await self._call(request)
            except ConsentRequiredError:
                continue
            return True
        return False

    async def list_user_consents(self, external_client_id: str, password: str) -> list[UserConsent]:
        """Sandbox only: the user's own list of consents (logged in as the user), with the
        `consent-…` ids of consents approved in the bank's UI. Errors as the bank gives them
        (404 where a build has no such list, 401 where the login is refused)."""
        user_token = await self._login(external_client_id, password)
        request = BankRequest(
            "GET",
            "/account-consents/my-consents",
            use_bank_token=False,
            bearer=user_token,
            external_client_id=external_client_id,
            extra_secrets=(password, user_token),
        )
        return parse_user_consents(as_dict(await self._json(request)))

    async def sign_account_consent(
        self, external_client_id: str, password: str, request_id: str, approve: bool = True
    ) -> ConsentSignResult:
        """Sandbox only: log in as the user and approve (or reject) a pending request."""
        return await self._sign(
            "/account-consents/sign", external_client_id, password, request_id, approve
        )

    async def revoke_account_consent(self, consent_id: str) -> bool:
        """Revoke; False when the bank no longer knows the consent (already gone)."""
        return await self._revoke(f"/account-consents/{quote(consent_id, safe='')}")

    async def probe_product_agreement_access(
        self, external_client_id: str, request_id: str
    ) -> bool:
        """Whether an agreement request was approved on the bank's side: the agreements list
        asked with the request id in the header, which the bank resolves to the consent it
        became (a read of the request itself never shows the approval). 403 before."""
        request = BankRequest(
            "GET",
            "/product-agreements",
            params={"client_id": external_client_id},
            headers={"X-Product-Agreement-Consent-Id": request_id},
            external_client_id=external_client_id,
        )
        try:
            await self._call(request)
        except ConsentRequiredError:
            return False
        return True

    async def revoke_product_agreement_consent(self, consent_id: str) -> bool:
        """Revoke an agreement consent; False when the bank no longer knows it."""
        return await self._revoke(f"/product-agreement-consents/{quote(consent_id, safe='')}")

    async def _revoke(self, path: str) -> bool:
        request = BankRequest("DELETE", path)
        try:
            await self._call(request)
        except BankNotFoundError:
            return False
        return True

    # -- product-agreement consents ------------------------------------------------------

    async def request_product_agreement_consent(
        self,
        external_client_id: str,
        reason: str = "Personal finance aggregation",
        allowed_product_types: Sequence[str] = DEFAULT_PRODUCT_TYPES,
    ) -> ProductConsentRequestResult:
        """Ask for read access to the user's product agreements."""
        body = {
            "requesting_bank": self.client_id,
            "client_id": external_client_id,
            "read_product_agreements": True,
            "open_product_agreements": False,
            "close_product_agreements": False,
            "allowed_product_types": list(allowed_product_types),
            "reason": reason,
        }
        request = BankRequest(
            "POST",
            "/product-agreement-consents/request",
            params={"client_id": external_client_id},
            body=body,
            idempotent=False,
            external_client_id=external_client_id,
        )
        return parse_product_consent_request(as_dict(await self._json(request)))

    async def get_product_agreement_consent(
        self, consent_or_request_id: str, *, external_client_id: str, password: str
    ) -> ProductAgreementConsent:
        """A product-agreement consent (flat snake_case), read as the user (sandbox login):
        the bank refuses the team's own token (401). There is no sign route for these: a
        pending one is approved on the bank's side only."""
        user_token = await self._login(external_client_id, password)
        path = f"/product-agreement-consents/{quote(consent_or_request_id, safe='')}"
        request = BankRequest(
            "GET",
            path,
            use_bank_token=False,
            bearer=user_token,
            external_client_id=external_client_id,
            extra_secrets=(password, user_token),
        )
        return parse_product_consent(as_dict(await self._json(request)))

    async def _sign(
        self, path: str, external_client_id: str, password: str, request_id: str, approve: bool
    ) -> ConsentSignResult:
        user_token = await self._login(external_client_id, password)
        body = {
            "request_id": request_id,
            "action": "approve" if approve else "reject",
            "signature": "password",
        }
        request = BankRequest(
            "POST",
            path,
            body=body,
            idempotent=False,
            use_bank_token=False,
            bearer=user_token,
            external_client_id=external_client_id,
            extra_secrets=(password, user_token),
        )
        return parse_sign_result(as_dict(await self._json(request)))
