"""A person takes their data back: one bank disconnected, or everything deleted.

Disconnecting a bank withdraws its consents through the revoke workflow (the same path as
`DELETE /api/consents/{id}`: it probes until the bank lets go) and deletes what was synced
from that bank at once; the analysis is recomputed from the banks left.

Deleting everything withdraws every consent at every bank and frees the sandbox identity
(`connect.identity_release`: nothing is deleted while a bank still answers with the data),
then deletes every row of the person's, the account itself last.
"""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import delete, or_, update
from sqlalchemy.engine import Engine
from sqlmodel import col, select
from temporalio.client import Client

from connect.bank_access import BankAccess
from connect.consent_rows import WITHDRAWABLE, consents_in
from connect.dashboard import refresh_document
from connect.identities import identity_of, purge_bank_data, synced_data
from connect.identity_release import release_everywhere
from connect.onboarding import keep_probing, known_bank
from connect.snapshots import compute_and_store
from connect.withdrawal import EVERY_KIND
from contracts.connect import ConnectionStatus
from core.context import ServiceContext
from core.db import session_scope
from models.analytics import AnalyticsSnapshot
from models.audit import AuditEntry
from models.banking import BankAccount
from models.base import utcnow
from models.connect import BankConnection, ConsentKind
from models.dashboard import UserDashboard
from models.mfa import MfaChallenge, RecoveryCode, SecondFactor
from models.notifications import (
    Notification,
    NotificationDelivery,
    NotificationSettings,
    TelegramLinkCode,
)
from models.users import User


async def disconnect_bank(
    ctx: ServiceContext, client: Client, *, user_id: uuid.UUID, bank_code: str
) -> list[str]:
    """Withdraw the bank's consents (revoke workflows) and delete its data; returns the
    revoke workflows' ids (none when nothing was open)."""
    bank_code = known_bank(bank_code)
    rows = await asyncio.to_thread(
        consents_in, ctx.engine, user_id, bank_code, EVERY_KIND, WITHDRAWABLE
    )
    # Revoking the accounts consent withdraws the bank's agreement consent with it.
    accounts = [row for row in rows if row.kind == ConsentKind.accounts]
    started = await keep_probing(ctx, client, user_id, accounts or rows)
    # Sync database work (and a whole analysis) off the event loop.
    await asyncio.to_thread(forget_bank, ctx.engine, user_id, bank_code)
    return started


def forget_bank(engine: Engine, user_id: uuid.UUID, bank_code: str) -> None:
    """Everything synced from one bank, deleted; the analysis rebuilt from the others."""
    with session_scope(engine) as session:
        for statement in (
            *synced_data(user_id, bank_code),
            # Shown unconnected at once; the revoke workflow records how the bank answered.
            update(BankConnection)
            .where(
                col(BankConnection.user_id) == user_id, col(BankConnection.bank_code) == bank_code
            )
            .values(status=ConnectionStatus.not_connected, step="revoking", progress_pct=0),
            # Every stored analysis counted the bank: the next is built from the others.
            delete(AnalyticsSnapshot).where(col(AnalyticsSnapshot.user_id) == user_id),
        ):
            session.execute(statement)
        refresh_document(session, user_id)
        left = session.exec(
            select(BankAccount.id).where(col(BankAccount.user_id) == user_id)
        ).first()
    if left is not None:
        compute_and_store(engine, str(user_id), utcnow())


async def delete_everything(ctx: ServiceContext, client: Client, user_id: uuid.UUID) -> None:
    """Every consent withdrawn at the banks and the identity freed (ConsentRevokePending,
    and nothing deleted, while a bank still answers), then every row of the person's."""
    name = await asyncio.to_thread(identity_of, ctx.engine, user_id)
    if name is not None:
        bank = BankAccess(ctx)
        try:
            await release_everywhere(bank, client, name)
        finally:
            await bank.close()
    await asyncio.to_thread(delete_person, ctx.engine, user_id)


def delete_person(engine: Engine, user_id: uuid.UUID) -> None:
    """The person's own rows, children first, the account last (bank data is gone with the
    identity; a user who never held one may still have connections and a dashboard)."""
    notifications = select(Notification.id).where(col(Notification.user_id) == user_id)
    with session_scope(engine) as session:
        purge_bank_data(session, user_id)
        for statement in (
            delete(NotificationDelivery).where(
                col(NotificationDelivery.notification_id).in_(notifications)
            ),
            delete(Notification).where(col(Notification.user_id) == user_id),
            delete(NotificationSettings).where(col(NotificationSettings.user_id) == user_id),
            delete(TelegramLinkCode).where(col(TelegramLinkCode.user_id) == user_id),
            delete(MfaChallenge).where(col(MfaChallenge.user_id) == user_id),
            delete(RecoveryCode).where(col(RecoveryCode.user_id) == user_id),
            delete(SecondFactor).where(col(SecondFactor.user_id) == user_id),
            delete(UserDashboard).where(col(UserDashboard.user_id) == user_id),
            delete(AuditEntry).where(
                or_(
                    col(AuditEntry.actor_user_id) == user_id,
                    col(AuditEntry.target_id) == str(user_id),
                )
            ),
            delete(User).where(col(User.id) == user_id),
        ):
            session.execute(statement)
