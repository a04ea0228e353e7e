"""The bank client against the emulator over real HTTP: consents, accounts, transactions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from banks import (
    AccountCategory,
    BankAuthError,
    BankClient,
    ConsentRequiredError,
    ConsentStatus,
    TransactionStatus,
)
from banks.transport import BankRequest
from tests.bank_client.helpers import BANKS, SECRET, EmulatorAdmin, granted_consent

MakeClient = Callable[..., BankClient]


@pytest.mark.parametrize("bank", BANKS)
async def test_consent_flow_for_each_bank(bank: str, make_client: MakeClient) -> None:
    client = make_client(bank)
    requested = await client.request_account_consent("team042-1")
    # Which path applies is the bank's answer, not its name (SBank signs by default).
    assert requested.auto_approved is (bank != "sbank")
    consent_id = requested.consent_id
    if not requested.auto_approved:
        signed = await client.sign_account_consent("team042-1", SECRET, requested.request_id)
        consent_id = signed.consent_id
    assert consent_id is not None
    consent = await client.get_account_consent(consent_id)
    assert consent.status is ConsentStatus.authorized and not consent.is_request_echo

    accounts = await client.list_accounts("team042-1", consent_id)
    categories = {a.category for a in accounts}
    assert categories == {
        AccountCategory.checking,
        AccountCategory.savings,
        AccountCategory.loan,
        AccountCategory.credit_card,
    }
    checking = next(a for a in accounts if a.category is AccountCategory.checking)
    assert checking.masked_number is not None and len(checking.identification or "") == 20
    balances = await client.get_balances(
        checking.account_id, external_client_id="team042-1", consent_id=consent_id
    )
    assert {b.balance_type for b in balances} == {"InterimAvailable", "InterimBooked"}
    assert all(isinstance(b.amount, Decimal) and b.as_of and b.as_of.tzinfo for b in balances)


@pytest.mark.parametrize(("bank", "account_id"), [("vbank", "acc-1011"), ("abank", "acc-2011")])
async def test_transactions_are_read_to_the_last_page(
    bank: str, account_id: str, make_client: MakeClient, admin: EmulatorAdmin
) -> None:
    client = make_client(bank)
    consent_id = await granted_consent(client, "team042-1")
    txs = [
        t
        async for t in client.iter_transactions(
            account_id, external_client_id="team042-1", consent_id=consent_id
        )
    ]
    summary = await admin.client_summary(bank, "team042-1")
    expected = next(a["transactions"] for a in summary["accounts"] if a["account_id"] == account_id)
    assert len(txs) == expected > 100
    assert len({t.transaction_id for t in txs}) == len(txs)
    # ABank sends zone-less timestamps: they must still come out as UTC.
    assert all(t.booked_at.tzinfo is UTC for t in txs)
    assert {t.status for t in txs} >= {TransactionStatus.booked, TransactionStatus.pending}
    if bank == "vbank":  # the salary bank of team042-1
        salary = [t for t in txs if t.description == "💼 Зарплата"]
        rent = [t for t in txs if t.description == "🏠 ЖКХ/Аренда"]
        assert len(salary) >= 12 and all(t.amount > 0 for t in salary)
        assert rent and all(t.amount < 0 for t in rent)


async def test_pending_request_polls_as_awaiting(make_client: MakeClient) -> None:
    client = make_client("sbank")
    requested = await client.request_account_consent("team042-2")
    assert requested.consent_id is None and requested.status is ConsentStatus.awaiting_authorization
    polled = await client.get_account_consent(requested.request_id)
    assert polled.is_request_echo and polled.status is ConsentStatus.awaiting_authorization
    rejected = await client.sign_account_consent(
        "team042-2", SECRET, requested.request_id, approve=False
    )
    assert rejected.status is ConsentStatus.rejected and rejected.consent_id is None


async def test_window_is_applied_even_when_the_bank_ignores_it(
    make_client: MakeClient, admin: EmulatorAdmin
) -> None:
    client = make_client("abank")
    consent_id = await granted_consent(client, "team042-2")
    start, end = datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 4, 1, tzinfo=UTC)

    async def window() -> list[str]:
        return [
            t.transaction_id
            async for t in client.iter_transactions(
                "acc-2021",
                external_client_id="team042-2",
                consent_id=consent_id,
                from_dt=start,
                to_dt=end,
                page_size=20,
            )
        ]

    honoured = await window()
    await admin.behaviour("abank", ignore_date_filter=True)
    ignored = await window()
    assert honoured and ignored == honoured


async def test_new_entries_while_paging_are_not_duplicated(
    make_client: MakeClient, admin: EmulatorAdmin
) -> None:
    client = make_client("vbank")
    consent_id = await granted_consent(client, "team042-7")
    seen: list[str] = []
    async for tx in client.iter_transactions(
        "acc-1071", external_client_id="team042-7", consent_id=consent_id, page_size=25
    ):
        seen.append(tx.transaction_id)
        if len(seen) == 1:
            # Three newer entries shift every later page by three rows.
            await admin.add_transactions(
                "vbank",
                "team042-7",
                "acc-1071",
                [{"amount": "10.00", "booking_date_time": "2030-01-01T00:00:00Z"}] * 3,
            )
    assert len(seen) == len(set(seen))
    again = [
        t.transaction_id
        async for t in client.iter_transactions(
            "acc-1071", external_client_id="team042-7", consent_id=consent_id
        )
    ]
    assert set(seen) <= set(again) and len(again) == len(seen) + 3


async def test_revoked_consent_raises_consent_required(
    make_client: MakeClient, admin: EmulatorAdmin
) -> None:
    client = make_client("vbank")
    consent_id = await granted_consent(client, "team042-3")
    await admin.revoke_client_consents("vbank", "team042-3")
    with pytest.raises(ConsentRequiredError) as caught:
        await client.list_accounts("team042-3", consent_id)
    assert caught.value.code == "bank_consent_required" and caught.value.status_code == 403
    assert await client.revoke_account_consent(consent_id) is True
    assert await client.revoke_account_consent("consent-000000000000") is False


async def test_a_pending_agreement_consent_cannot_be_signed_or_read_by_the_team(
    make_client: MakeClient,
) -> None:
    client = make_client("sbank")
    requested = await client.request_product_agreement_consent("team042-10")
    assert not requested.auto_approved and requested.consent_id is None
    with pytest.raises(BankAuthError):  # the team's token: 401 Insufficient permissions
        await client._json(
            BankRequest("GET", f"/product-agreement-consents/{requested.request_id}")
        )
    as_user = await client.get_product_agreement_consent(
        requested.request_id, external_client_id="team042-10", password=SECRET
    )
    assert as_user.status is ConsentStatus.awaiting_authorization


async def test_products_and_agreements_with_an_approved_consent(make_client: MakeClient) -> None:
    client = make_client("vbank")
    loans = await client.list_products("loan")
    assert loans and {p.product_type for p in loans} == {"loan"}
    assert all(p.interest_rate and p.interest_rate > 0 for p in loans)

    requested = await client.request_product_agreement_consent("team042-10")
    assert requested.auto_approved and requested.consent_id
    consent_id = requested.consent_id
    consent = await client.get_product_agreement_consent(
        consent_id, external_client_id="team042-10", password=SECRET
    )
    assert consent.status is ConsentStatus.authorized

    agreements = await client.list_product_agreements("team042-10", consent_id)
    assert {a.product_type for a in agreements} == {"loan", "deposit", "card"}
    loan = next(a for a in agreements if a.product_type == "loan")
    assert isinstance(loan.amount, Decimal) and loan.start_date and loan.start_date.tzinfo is UTC
    detail = await client.get_product_agreement(
        loan.agreement_id, external_client_id="team042-10", consent_id=consent_id
    )
    assert detail.interest_rate is not None and detail.account_balance is not None
    assert detail.account_balance > 0


async def test_cards_are_read_with_read_cards(make_client: MakeClient) -> None:
    client = make_client("vbank")
    permissions = ("ReadAccountsDetail", "ReadCards")
    consent_id = (await client.request_account_consent("team042-4", permissions)).consent_id
    assert consent_id is not None
    cards = await client.list_cards("team042-4", consent_id)
    assert {c.card_type for c in cards} == {"debit", "credit"}
    assert all(c.masked_number and c.masked_number.startswith("****") for c in cards)
