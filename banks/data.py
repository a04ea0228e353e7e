"""Data calls under a consent: accounts, balances, cards, transactions, products, agreements.

Every answer is parsed into `banks.wire` models; a list the bank sent that we cannot read is
a `BankProtocolError`. Transactions are paged to the end, within the requested window.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote

from banks.auth import BankAuth
from banks.errors import BankProtocolError
from banks.parsing import (
    as_dict,
    parse_account,
    parse_agreement,
    parse_balance,
    parse_card,
    parse_int,
    parse_product,
    parse_transaction,
    unwrap,
)
from banks.transport import BankRequest
from banks.wire import (
    BankAccount,
    BankBalance,
    BankCard,
    BankProduct,
    BankTransaction,
    ProductAgreement,
)

log = logging.getLogger(__name__)

MAX_PAGES = 10_000
T = TypeVar("T")


class DataCalls(BankAuth):
    """Reading a user's data at this bank (and the bank's own product catalogue)."""

    def _parse_all(self, items: Any, parser: Callable[[dict[str, Any]], T], what: str) -> list[T]:
        if not isinstance(items, list):
            message = f"{self.bank_code}: {what} is not a list"
            raise BankProtocolError(message, bank_code=self.bank_code)
        try:
            return [parser(as_dict(item)) for item in items]
        except (KeyError, ValueError, TypeError) as exc:
            raise BankProtocolError(
                f"{self.bank_code}: unreadable {what} ({type(exc).__name__}: {exc})",
                bank_code=self.bank_code,
            ) from None

    # -- accounts data -------------------------------------------------------------------

    def _data_request(
        self, path: str, client: str, consent_id: str, params: dict[str, str] | None = None
    ) -> BankRequest:
        return BankRequest(
            "GET",
            path,
            params={"client_id": client, **(params or {})},
            headers={"X-Consent-Id": consent_id},
            external_client_id=client,
        )

    async def list_accounts(self, external_client_id: str, consent_id: str) -> list[BankAccount]:
        """The user's accounts, classified by accountSubType."""
        request = self._data_request("/accounts", external_client_id, consent_id)
        payload = await self._json(request)
        return self._parse_all(unwrap(payload, "account", "accounts"), parse_account, "accounts")

    async def get_balances(
        self, account_id: str, *, external_client_id: str, consent_id: str
    ) -> list[BankBalance]:
        """Signed balances of one account (a Loan's positive amount is its debt)."""
        path = f"/accounts/{quote(account_id, safe='')}/balances"
        payload = await self._json(self._data_request(path, external_client_id, consent_id))
        items = unwrap(payload, "balance", "balances")
        return self._parse_all(items, lambda item: parse_balance(item, account_id), "balances")

    async def list_cards(self, external_client_id: str, consent_id: str) -> list[BankCard]:
        """The user's cards (the consent needs ReadCards)."""
        payload = await self._json(self._data_request("/cards", external_client_id, consent_id))
        return self._parse_all(unwrap(payload, "cards"), parse_card, "cards")

    async def iter_transactions(
        self,
        account_id: str,
        *,
        external_client_id: str,
        consent_id: str,
        from_dt: datetime | None = None,
        to_dt: datetime | None = None,
        page_size: int = 100,
    ) -> AsyncIterator[BankTransaction]:
        """Every transaction in [from_dt, to_dt], following pages to the end.

        The window is applied here too (some banks ignore it); ids repeated across pages
        (new entries shift offsets while we page) are yielded once.
        """
        seen: set[str] = set()
        for page in range(1, MAX_PAGES + 1):
            payload = await self._transactions_page(
                account_id, external_client_id, consent_id, (from_dt, to_dt), page, page_size
            )
            items = self._parse_all(
                unwrap(payload, "transaction", "transactions"),
                lambda item: parse_transaction(item, account_id),
                "transactions",
            )
            for tx in items:
                if tx.transaction_id not in seen and _within(tx.booked_at, from_dt, to_dt):
                    seen.add(tx.transaction_id)
                    yield tx
            # Pages come newest first: a page wholly before the window ends the walk.
            before_window = from_dt is not None and all(t.booked_at < from_dt for t in items)
            if not items or before_window or not _has_next_page(payload, page):
                return
        log.warning("%s: stopped paging %s after %d pages", self.bank_code, account_id, MAX_PAGES)

    async def _transactions_page(
        self,
        account_id: str,
        client: str,
        consent_id: str,
        window: tuple[datetime | None, datetime | None],
        page: int,
        page_size: int,
    ) -> Any:
        params = {"page": str(page), "limit": str(max(1, min(page_size, 100)))}
        if window[0] is not None:
            params["from_booking_date_time"] = _wire_datetime(window[0])
        if window[1] is not None:
            params["to_booking_date_time"] = _wire_datetime(window[1])
        path = f"/accounts/{quote(account_id, safe='')}/transactions"
        return await self._json(self._data_request(path, client, consent_id, params))

    # -- products and agreements ---------------------------------------------------------

    async def list_products(self, product_type: str | None = None) -> list[BankProduct]:
        """The bank's product catalogue (bank token only, no consent)."""
        params = {"product_type": product_type} if product_type else None
        payload = await self._json(BankRequest("GET", "/products", params=params))
        return self._parse_all(unwrap(payload, "product", "products"), parse_product, "products")

    def _agreements_request(self, path: str, client: str, consent_id: str) -> BankRequest:
        # Agreements use their own consent header, not X-Consent-Id.
        return BankRequest(
            "GET",
            path,
            params={"client_id": client},
            headers={"X-Product-Agreement-Consent-Id": consent_id},
            external_client_id=client,
        )

    async def list_product_agreements(
        self, external_client_id: str, consent_id: str
    ) -> list[ProductAgreement]:
        """The user's agreements (no rates here: see `get_product_agreement`)."""
        request = self._agreements_request("/product-agreements", external_client_id, consent_id)
        payload = await self._json(request)
        return self._parse_all(unwrap(payload, "agreements"), parse_agreement, "agreements")

    async def get_product_agreement(
        self, agreement_id: str, *, external_client_id: str, consent_id: str
    ) -> ProductAgreement:
        """One agreement with `interest_rate` and the linked account's balance."""
        path = f"/product-agreements/{quote(agreement_id, safe='')}"
        payload = await self._json(self._agreements_request(path, external_client_id, consent_id))
        return self._parse_all([unwrap(payload)], parse_agreement, "agreement")[0]


def _within(value: datetime, low: datetime | None, high: datetime | None) -> bool:
    return (low is None or value >= low) and (high is None or value <= high)


def _wire_datetime(value: datetime) -> str:
    utc = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def _has_next_page(payload: Any, page: int) -> bool:
    body = as_dict(payload)
    if as_dict(body.get("links")).get("next"):
        return True
    total_pages = parse_int(as_dict(body.get("meta")).get("totalPages"))
    return total_pages is not None and total_pages > page
