"""Withdrawing a user's consents at a bank, and knowing that it worked.

A consent is withdrawn only when the bank stops giving us the user's data. The bank revokes
by consent id, and it never tells us the id of a consent approved in its own app: we hold
the request id, and `DELETE /account-consents/{request_id}` answers 404 — nothing revoked
(the real bank looks the id up among granted consents only: api/consents.py,
delete_account_access_consents_consent_id). The one place that id shows is the user's own
consent list (api/consents.py, get_my_consents), read by signing in as the user (sandbox:
the team secret is every sandbox user's password). Where the bank refuses that, the consent
stays `revoke_pending`: the user revokes it in the bank's app, and a probe (a cheap data
call the bank answers while it holds a consent for us) shows when it has let go.
"""

from __future__ import annotations

import logging
import uuid

from sqlalchemy.engine import Engine

from banks import BankAuthError, BankBadRequestError, BankError, BankUnavailableError
from banks.wire import ConsentStatus as WireConsentStatus
from connect.bank_access import BankAccess
from connect.bank_stores import acting_for
from connect.connection_updates import update_connection
from connect.connections import BANK_NAMES, REVOKE_PENDING_STEP
from connect.consent_rows import WITHDRAWABLE, consent_state, consents_in, record_consent
from connect.consents import consent_by_id
from connect.errors import EarlierConsentHeld
from contracts import connect as c
from contracts.connect import BANK_CODES, ConnectionStatus
from models.connect import Consent, ConsentKind, ConsentStatus

log = logging.getLogger(__name__)
ACCOUNTS = (ConsentKind.accounts,)
EVERY_KIND = (ConsentKind.accounts, ConsentKind.product_agreements)
# Account consents a new request must not leave behind at the bank.
EARLIER = (ConsentStatus.authorized, ConsentStatus.expired, ConsentStatus.revoke_pending)


def held_note(bank_code: str) -> str:
    """What the user is told while the bank still answers for a consent they withdrew."""
    name = BANK_NAMES.get(bank_code, bank_code)
    return (
        f"{name} still gives JivaPay your data: revoke JivaPay's consent in your {name} app. "
        f"We check until {name} stops."
    )


async def bank_holds_accounts(bank: BankAccess, bank_code: str, external: str) -> bool:
    """Whether the bank still answers an account data call for us about this user (an
    outage is no answer: its error goes up)."""
    return await bank.client(bank_code).probe_account_access(external)


async def _still_held(bank: BankAccess, bank_code: str, external: str) -> bool:
    """For a withdrawal, a bank that cannot say has not let go: a 5xx may be the real bank's
    answer while it holds two consents of the user for us (ConsentService.check_consent,
    `scalar_one_or_none`)."""
    try:
        return await bank_holds_accounts(bank, bank_code, external)
    except BankUnavailableError as exc:
        log.warning("withdrawal at %s unconfirmed: %s", bank_code, exc.code)
        return True


async def granted_ids(bank: BankAccess, bank_code: str, external: str) -> list[str]:
    """The ids of the account consents the bank holds for us about this user, from the
    user's own list; empty when the bank offers no such list or refuses the login."""
    client = bank.client(bank_code)
    password = bank.ctx.settings.bank_client_secret.get_secret_value()
    try:
        listed = await client.list_user_consents(external, password)
    except (BankAuthError, BankBadRequestError) as exc:
        log.info("no consent list of the user at %s: %s", bank_code, exc.code)
        return []
    # Only ours: the bank's revoke does not check the team, so another team's consent in
    # the same list must never be touched.
    return [
        each.consent_id
        for each in listed
        if each.granted_to == client.client_id and each.status == WireConsentStatus.authorized
    ]


async def withdraw_accounts(
    bank: BankAccess, bank_code: str, external: str, consent_ids: list[str]
) -> bool:
    """Revoke these consents, then any other the bank still holds for us (learned from the
    user's list). True once the bank no longer answers with the user's data."""
    client = bank.client(bank_code)
    for consent_id in consent_ids:
        # False (404) means nothing was revoked there, never that all is well: the probe says.
        await client.revoke_account_consent(consent_id)
    if not await _still_held(bank, bank_code, external):
        return True
    for consent_id in await granted_ids(bank, bank_code, external):
        await client.revoke_account_consent(consent_id)
    return not await _still_held(bank, bank_code, external)


async def withdraw_agreements(bank: BankAccess, row: Consent, external: str) -> bool:
    """Revoke an agreement consent. One approved on the bank's side has no id of ours: the
    request id shows whether the bank still resolves it to a live consent."""
    client = bank.client(row.bank_code)
    if row.consent_id and await client.revoke_product_agreement_consent(row.consent_id):
        return True
    try:
        return not await client.probe_product_agreement_access(external, row.request_id)
    except BankError as exc:
        log.warning("agreement consent %s unconfirmed at %s: %s", row.id, row.bank_code, exc)
        return False


async def withdraw(bank: BankAccess, rows: list[Consent], external: str) -> dict[str, bool]:
    """Withdraw the consents of one user at one bank: per row id, whether the bank let go.
    An accounts row stands for the bank as a whole (it must hold no account consent)."""
    released: dict[str, bool] = {}
    for row in rows:
        with acting_for(row.user_id):
            if row.kind == ConsentKind.accounts:
                ids = [row.consent_id] if row.consent_id else []
                released[str(row.id)] = await withdraw_accounts(bank, row.bank_code, external, ids)
            else:
                released[str(row.id)] = await withdraw_agreements(bank, row, external)
    return released


# -- the user withdraws a consent; a new request; an identity released --


async def revoke(bank: BankAccess, inp: c.RevokeInput) -> c.ConsentState:
    """Withdraw a consent at the bank and here; the bank then needs re-connecting. Revoking
    the accounts consent withdraws the agreement consent of that bank too. Asked again (the
    revoke workflow, while `revoke_pending`) it tries again and probes."""
    try:
        row = await bank.db(consent_by_id, inp.consent_row_id)
    except LookupError:
        # Deleted with its identity, which is released only once the banks have let go.
        gone = ConsentStatus.revoked
        return c.ConsentState(inp.consent_row_id, "", "", gone, reason="Identity released")
    if row.status not in WITHDRAWABLE:
        return consent_state(row)  # done meanwhile (the bank let go, seen by a reconnect)
    first = row.status != ConsentStatus.revoke_pending
    rows = [row]
    if row.kind == ConsentKind.accounts:
        agreements = (ConsentKind.product_agreements,)
        rows += await bank.db(consents_in, row.user_id, row.bank_code, agreements, WITHDRAWABLE)
    external = await bank.external_client(str(row.user_id))
    released = await withdraw(bank, rows, external)
    await bank.db(record_withdrawal, rows, released, "Revoked by the user", first)
    return consent_state(await bank.db(consent_by_id, inp.consent_row_id))


def record_withdrawal(
    engine: Engine, rows: list[Consent], released: dict[str, bool], reason: str, first: bool
) -> None:
    """Each row revoked, or `revoke_pending` while its bank still answers; the bank's
    connection says which (a later round changes it only if it still waits on the bank)."""
    for row in rows:
        if released[str(row.id)]:
            record_consent(engine, row.id, ConsentStatus.revoked, reason)
        else:
            record_consent(engine, row.id, ConsentStatus.revoke_pending, held_note(row.bank_code))
    main = next((row for row in rows if row.kind == ConsentKind.accounts), None)
    if main is None:
        return
    done = released[str(main.id)]
    update = c.ConnectionUpdate(
        str(main.user_id),
        main.bank_code,
        ConnectionStatus.not_connected,
        "revoked" if done else REVOKE_PENDING_STEP,
        0,
        None if done else held_note(main.bank_code),
    )
    update_connection(engine, update, only_from_step=None if first else REVOKE_PENDING_STEP)


async def clear_earlier_access(
    bank: BankAccess, user_id: str, bank_code: str, external: str
) -> None:
    """Before a new account request: the bank must hold no earlier consent of the user for
    us. One it still holds is withdrawn (by its id, or one learned from the user's list);
    when that is not possible, EarlierConsentHeld and no request is made."""
    earlier = await bank.db(consents_in, uuid.UUID(user_id), bank_code, ACCOUNTS, EARLIER)
    try:
        held = await bank_holds_accounts(bank, bank_code, external)
    except BankUnavailableError as exc:
        # The real bank answers 500 while it holds two consents of the user for us: only
        # the user's list tells that apart from an outage (then the outage is the answer).
        if exc.status_code != 500 or not await granted_ids(bank, bank_code, external):
            raise
        held = True
    if held:
        ids = [row.consent_id for row in earlier if row.consent_id]
        if not await withdraw_accounts(bank, bank_code, external, ids):
            name = BANK_NAMES.get(bank_code, bank_code)
            raise EarlierConsentHeld(
                f"{name} still holds an earlier consent of yours for JivaPay: revoke it in "
                f"your {name} app, then connect {name} again"
            )
    note = "The bank no longer gives us the data"
    for row in earlier:
        if row.status == ConsentStatus.revoke_pending:
            await bank.db(record_consent, row.id, ConsentStatus.revoked, note)


async def withdraw_everything(bank: BankAccess, user_id: uuid.UUID, external: str) -> list[str]:
    """Before an identity goes back to the pool: every consent of its holder withdrawn at
    every bank, and whatever else a bank holds for us about the identity. Returns the banks
    that still answer with its data (or could not be asked)."""
    held = []
    for bank_code in BANK_CODES:
        rows = await bank.db(consents_in, user_id, bank_code, EVERY_KIND, WITHDRAWABLE)
        try:
            with acting_for(user_id):
                ids = [row.consent_id for row in rows if row.consent_id and row.kind in ACCOUNTS]
                clear = await withdraw_accounts(bank, bank_code, external, ids)
                released = {str(row.id): clear for row in rows if row.kind in ACCOUNTS}
                released |= await withdraw(
                    bank, [row for row in rows if row.kind not in ACCOUNTS], external
                )
        except BankError as exc:
            log.warning("consents of %s unconfirmed at %s: %s", external, bank_code, exc)
            clear, released = False, {str(row.id): False for row in rows}
        if rows:
            await bank.db(record_withdrawal, rows, released, "Identity released", True)
        if not clear or not all(released.values()):
            held.append(bank_code)
    return held
