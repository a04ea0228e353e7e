"""The dashboard: the one document a Connect client needs on its home screen.

Built from the newest stored snapshot's pre-assembled `dashboard` block plus a few indexed
reads (accounts, connections, consents), and stored per user (`user_dashboards`) by
`refresh_document` in the transaction of every change to those inputs. A request reads the
stored bytes with one query; a user without a document (new, or from before documents
existed) or with one the clock has made stale gets it built and stored on that read.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import Text, bindparam, cast, or_, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from connect.connections import (
    BANK_NAMES,
    CONSENT_EXPIRY_WARNING,
    ENDED_STEP,
    REVOKE_PENDING_STEP,
    connections_of,
)
from connect.data import account_public, accounts_of
from connect.insights import newest_snapshot_query
from core.db import dialect_insert, session_scope
from models.analytics import AnalyticsSnapshot
from models.banking import AccountKind, BankAccount
from models.base import utcnow
from models.connect import ConnectionPublic, ConnectionStatus
from models.dashboard import (
    AttentionPublic,
    AttentionReason,
    BankStatusPublic,
    CurrencyBalancesPublic,
    DashboardBlock,
    DashboardEnvelope,
    DashboardStatus,
    SnapshotRefPublic,
    UserDashboard,
)
from models.insights import STATUS_NO_DATA, STATUS_READY, money_fields

STATUS_SYNCING: Final = "syncing"
_IN_PROGRESS = {ConnectionStatus.consent_pending, ConnectionStatus.sync_in_progress}
# What a user without a snapshot gets in place of the stored block.
_EMPTY = json.dumps(
    DashboardBlock(metrics=None, debts=[], next_payments=[]).model_dump(mode="json")
)


def _latest_dashboard(session: Session, user_id: uuid.UUID) -> Any:
    """The newest snapshot's pre-assembled block, as the JSON text stored (never parsed)."""
    query = newest_snapshot_query(
        user_id,
        AnalyticsSnapshot.id,
        AnalyticsSnapshot.as_of,
        AnalyticsSnapshot.computed_at,
        cast(col(AnalyticsSnapshot.dashboard), Text).label("block"),
    )
    return session.exec(query).first()


def _status(has_metrics: bool, banks: list[ConnectionPublic]) -> DashboardStatus:
    if has_metrics:
        return STATUS_READY
    # Connected but not computed yet: the onboarding / refresh snapshot is on its way.
    if any(b.status in _IN_PROGRESS or b.status == ConnectionStatus.ready for b in banks):
        return STATUS_SYNCING
    return STATUS_NO_DATA


def _balances(accounts: list[BankAccount]) -> list[CurrencyBalancesPublic]:
    """Totals per currency and account kind; currencies are never added together."""
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for acc in accounts:
        amount = (acc.available_minor if acc.kind == AccountKind.liquid else acc.booked_minor) or 0
        # Banks sign debt both ways (a loan's positive balance, a card's negative one).
        totals[acc.currency][acc.kind.value] += abs(amount) if acc.kind == "liability" else amount
    return [
        CurrencyBalancesPublic.model_validate(
            {
                "currency": currency,
                **{kind: money_fields(amount, currency) for kind, amount in by_kind.items()},
                "source": "account_balance",
            }
        )
        for currency, by_kind in sorted(totals.items(), key=lambda kv: (kv[0] != "RUB", kv[0]))
    ]


def _attention(banks: list[ConnectionPublic]) -> list[AttentionPublic]:
    """Banks the user must act on: a new consent needed soon or now, a failed sync, or a
    consent they withdrew that the bank still holds."""
    notes: list[tuple[str, AttentionReason, str]] = []
    for bank in banks:
        name = BANK_NAMES.get(bank.bank_code, bank.bank_code)
        if bank.status == ConnectionStatus.reconsent_required:
            ended = bank.step == ENDED_STEP and bank.last_error
            message = bank.last_error if ended else f"{name} needs a new consent."
            notes.append((bank.bank_code, "reconsent_required", message or ""))
        elif bank.step == REVOKE_PENDING_STEP:
            notes.append((bank.bank_code, "revoke_pending", bank.last_error or name))
        elif bank.consent_expiring_soon and bank.consent_expires_at is not None:
            day = bank.consent_expires_at.date().isoformat()
            notes.append((bank.bank_code, "consent_expiring_soon", f"{name} consent ends {day}."))
        elif bank.status == ConnectionStatus.error:
            notes.append((bank.bank_code, "sync_error", bank.last_error or f"{name} sync failed."))
    return [AttentionPublic(bank_code=b, reason=r, message=m) for b, r, m in notes]


def _stale_at(banks: list[ConnectionPublic]) -> datetime | None:
    """When the clock alone next changes the body: a consent entering its last week, or
    one flagged so reaching its end (the bank then needs a new consent)."""
    now = utcnow()
    moments = [
        ends - CONSENT_EXPIRY_WARNING if not b.consent_expiring_soon else ends
        for b in banks
        if (ends := b.consent_expires_at) is not None and ends > now
    ]
    return min(moments, default=None)


def dashboard_body(session: Session, user_id: uuid.UUID) -> bytes:
    """The whole `/api/dashboard` body (`DashboardPublic`), JSON-encoded, built afresh."""
    return _build(session, user_id)[0]


def _build(session: Session, user_id: uuid.UUID) -> tuple[bytes, datetime | None]:
    snapshot = _latest_dashboard(session, user_id)
    # The block was JSON-encoded when the snapshot was stored; decoding and re-encoding it
    # on every request would be most of this endpoint's cost.
    block = snapshot.block if snapshot and snapshot.block not in (None, "null") else _EMPTY
    banks = connections_of(session, user_id=user_id)
    accounts = accounts_of(session, user_id=user_id)
    envelope = DashboardEnvelope(
        status=_status(block is not _EMPTY, banks),
        refreshing=any(b.status in _IN_PROGRESS for b in banks),
        snapshot=(
            SnapshotRefPublic(
                id=snapshot.id, as_of=snapshot.as_of, computed_at=snapshot.computed_at
            )
            if snapshot
            else None
        ),
        accounts=[account_public(acc) for acc in accounts],
        balances=_balances(accounts),
        banks=[
            BankStatusPublic(name=BANK_NAMES.get(b.bank_code, b.bank_code), **dict(b))
            for b in banks
        ],
        attention=_attention(banks),
    )
    # Both are JSON objects with distinct keys: splice them into one.
    head = json.dumps(envelope.model_dump(mode="json"), ensure_ascii=False)
    body = head[:-1] + ", " + block.strip()[1:]
    return body.encode(), _stale_at(banks)


# -- the stored document --

_TABLE = UserDashboard.__table__  # type: ignore[attr-defined]
# The request's one query: the stored bytes, unless the clock has made them stale.
_READ = select(_TABLE.c.body).where(
    _TABLE.c.user_id == bindparam("user_id"),
    or_(_TABLE.c.stale_at.is_(None), _TABLE.c.stale_at > bindparam("now")),
)


def refresh_document(session: Session, user_id: uuid.UUID) -> bytes:
    """Rewrite the user's stored dashboard from its inputs, in the caller's transaction.

    Every writer of an input (snapshots, connections, consents, accounts) calls this last in
    its transaction. The document's row is locked before the inputs are read, so two writers
    of one user take turns and the later one reads what the earlier one committed: neither
    can store a body missing the other's change.
    """
    now = utcnow()
    session.flush()
    insert = dialect_insert(session.get_bind().dialect.name, _TABLE)
    session.execute(
        insert.values(user_id=user_id, body=b"", updated_at=now).on_conflict_do_update(
            index_elements=[_TABLE.c.user_id], set_={"updated_at": now}
        )
    )
    body, stale_at = _build(session, user_id)
    session.execute(
        update(_TABLE)
        .where(_TABLE.c.user_id == user_id)
        .values(body=body, stale_at=stale_at, updated_at=now)
    )
    return body


_LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


def mark_stale(session: Session, user_id: uuid.UUID) -> None:
    """The document no longer shows everything: the next read rebuilds it (one UPDATE, no
    rebuild). For the writers a sync calls many times in a row (accounts, balances, progress
    that changes no status), so an onboarding rebuilds it once per read, not once per write;
    a status change and the sync's end still call `refresh_document`."""
    session.flush()
    # Long past, so no clock (the API's, the worker's) reads it as still fresh.
    session.execute(update(_TABLE).where(_TABLE.c.user_id == user_id).values(stale_at=_LONG_AGO))


def dashboard_document(engine: Engine, user_id: uuid.UUID) -> bytes:
    """The user's stored dashboard: one single-statement read (no transaction to open or
    end), built and stored first when missing or stale."""
    with engine.connect() as conn:
        body = (
            conn.execution_options(isolation_level="AUTOCOMMIT")
            .execute(_READ, {"user_id": user_id, "now": utcnow()})
            .scalar()
        )
    if not body:
        with session_scope(engine) as session:
            body = refresh_document(session, user_id)
    return bytes(body)
