"""The pool of sandbox identities: the banks' end users `{team}-1..N`, each held by at most
one of our users, so nobody is ever shown another user's bank data.

An identity is assigned atomically on the user's first bank connection (a conditional
update of a free row; the unique `user_id` makes a second one for the same user impossible).
Releasing one deletes what we stored from it before anybody else can take it. Sync code.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, Executable, and_, delete, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from connect.dashboard import refresh_document
from connect.errors import IdentityNotFound, NoSandboxIdentity
from core.db import session_scope
from core.errors import Conflict, NotFound
from core.settings import Settings
from models.analytics import AnalyticsSnapshot
from models.banking import BalanceSnapshot, BankAccount, BankTransaction, ProductAgreement, SyncRun
from models.base import utcnow
from models.connect import BankConnection, Consent, ConsentEvent, RawApiLog
from models.statement import StatementCredit
from models.traders import Requisite
from models.users import Role, SandboxIdentity, User


def pool_names(settings: Settings) -> list[str]:
    team = settings.bank_client_id
    return [f"{team}-{k}" for k in range(1, settings.sandbox_identities_per_team + 1)]


def ensure_pool(engine: Engine, settings: Settings) -> None:
    """The configured team's identities exist as rows (added once; never removed here)."""
    names = pool_names(settings)
    with Session(engine) as session:
        have = set(session.exec(select(SandboxIdentity.external_client_id)))
    for name in names:
        if name in have:
            continue
        try:
            with session_scope(engine) as session:
                session.add(SandboxIdentity(external_client_id=name, team=settings.bank_client_id))
        except IntegrityError:
            pass  # another process added it first


def identity_of(engine: Engine, user_id: uuid.UUID) -> str | None:
    with Session(engine) as session:
        query = select(SandboxIdentity.external_client_id).where(SandboxIdentity.user_id == user_id)
        return session.exec(query).first()


def _claim(engine: Engine, user_id: uuid.UUID, name: str) -> bool:
    """Take `name` for the user if it is still free: one conditional update."""
    statement = (
        update(SandboxIdentity)
        .where(col(SandboxIdentity.external_client_id) == name)
        .where(col(SandboxIdentity.user_id).is_(None))
        .values(user_id=user_id, assigned_at=utcnow())
    )
    try:
        with session_scope(engine) as session:
            return bool(session.execute(statement).rowcount)  # type: ignore[attr-defined]
    except IntegrityError:
        return False  # the same user got one concurrently: the caller reads it back


def assign_identity(engine: Engine, settings: Settings, user_id: uuid.UUID) -> str:
    """The user's identity, assigning a free one of the configured team if they have none;
    NoSandboxIdentity (409) when every one is held."""
    ensure_pool(engine, settings)
    while True:
        held = identity_of(engine, user_id)
        if held is not None:
            return held
        with Session(engine) as session:
            query = (
                select(SandboxIdentity.external_client_id)
                .where(SandboxIdentity.team == settings.bank_client_id)
                .where(col(SandboxIdentity.user_id).is_(None))
            )
            free = sorted(session.exec(query), key=_slot)
        if not free:
            raise NoSandboxIdentity()
        for name in free:
            if _claim(engine, user_id, name):
                return name
            if identity_of(engine, user_id) is not None:
                break


def _slot(name: str) -> tuple[str, int]:
    team, _, number = name.rpartition("-")
    return team, int(number) if number.isdigit() else 0


def assign_specific(engine: Engine, name: str, user_id: uuid.UUID) -> SandboxIdentity:
    """Admin: give this identity to this user (both must be free)."""
    with Session(engine) as session:
        user = session.get(User, user_id)
        row = session.get(SandboxIdentity, name)
    if user is None or user.role not in (Role.connect_user, Role.trader):
        raise NotFound("Connect user not found", code="user_not_found")
    if row is None:
        raise IdentityNotFound(name)
    if row.user_id == user_id:
        return row
    if identity_of(engine, user_id) is not None:
        raise Conflict("The user already holds a sandbox identity", code="identity_held")
    if not _claim(engine, user_id, name):
        raise Conflict(f"{name} is held by another user", code="identity_taken")
    return get_identity(engine, name)


def get_identity(engine: Engine, name: str) -> SandboxIdentity:
    with Session(engine) as session:
        row = session.get(SandboxIdentity, name)
        if row is None:
            raise IdentityNotFound(name)
        return row


def list_identities(engine: Engine) -> list[SandboxIdentity]:
    with Session(engine) as session:
        rows = session.exec(select(SandboxIdentity))
        return sorted(rows, key=lambda row: _slot(row.external_client_id))


def release_identity(engine: Engine, name: str) -> SandboxIdentity:
    """Free an identity: the holder's bank data, consents and analytics are deleted in the
    same transaction, so the next holder can never be shown them."""
    with session_scope(engine) as session:
        row = session.get(SandboxIdentity, name, with_for_update=True)
        if row is None:
            raise IdentityNotFound(name)
        if row.user_id is not None:
            purge_bank_data(session, row.user_id)
        row.user_id, row.assigned_at = None, None
        session.add(row)
    return get_identity(engine, name)


def synced_data(user_id: uuid.UUID, bank_code: str | None = None) -> list[Executable]:
    """Statements deleting what was synced for a user (from one bank, or all): accounts,
    balances, transactions with their statement credits, agreements, sync runs, raw logs;
    children first. A trader's requisites stop being linked; the pay-ins' timelines keep the
    evidence text."""

    def mine(table: Any) -> ColumnElement[bool]:
        owned = col(table.user_id) == user_id
        return owned if bank_code is None else and_(owned, col(table.bank_code) == bank_code)

    accounts = select(BankAccount.id).where(mine(BankAccount))
    transactions = select(BankTransaction.id).where(col(BankTransaction.account_id).in_(accounts))
    return [
        update(Requisite)
        .where(col(Requisite.linked_account_id).in_(accounts))
        .values(linked_account_id=None, linked_at=None),
        delete(StatementCredit).where(col(StatementCredit.transaction_id).in_(transactions)),
        delete(BalanceSnapshot).where(col(BalanceSnapshot.account_id).in_(accounts)),
        delete(BankTransaction).where(col(BankTransaction.account_id).in_(accounts)),
        delete(ProductAgreement).where(mine(ProductAgreement)),
        delete(BankAccount).where(mine(BankAccount)),
        delete(SyncRun).where(mine(SyncRun)),
        delete(RawApiLog).where(mine(RawApiLog)),
    ]


def purge_bank_data(session: Session, user_id: uuid.UUID) -> None:
    """Everything we stored from a user's bank identity (children first)."""
    consents = select(Consent.id).where(Consent.user_id == user_id)
    for statement in (
        *synced_data(user_id),
        delete(ConsentEvent).where(col(ConsentEvent.consent_row_id).in_(consents)),
        delete(Consent).where(col(Consent.user_id) == user_id),
        delete(BankConnection).where(col(BankConnection.user_id) == user_id),
        delete(AnalyticsSnapshot).where(col(AnalyticsSnapshot.user_id) == user_id),
    ):
        session.execute(statement)
    # The dashboard shows the banks unconnected and no figures, at once.
    refresh_document(session, user_id)
