"""The steps of a withdrawal's workflow, each mirrored into the database exactly once: who
approved and paid it, the hold released (rejected, cancelled) or posted at completion, the
merchant's event (its delivery row, frozen body, in the same transaction), the SLA's
escalation.

Completion posts: owner −(amount + fee), platform payout +amount, platform profit +fee.
"""

from __future__ import annotations

import json
import logging
import uuid

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from contracts.funds import (
    EscalateWithdrawal,
    FundsTransition,
    FundsTransitionResult,
    OwnerKind,
    WithdrawalStatus,
)
from core.db import session_scope
from core.metrics import WITHDRAWALS_ESCALATED
from models.amounts import to_decimal
from models.audit import AuditEntry
from models.base import as_utc, utcnow
from models.funds import Withdrawal
from models.ledger import AccountKind, HoldStatus
from models.merchants import Store
from models.orders import CallbackDelivery, DeliveryStatus
from processing.funds.common import Owner
from processing.ledger.postings import Leg, account_for, claim_hold, post, resolve_hold
from processing.notifications import events as notify
from processing.views import minor_units

log = logging.getLogger(__name__)
# The audit log's actor for what the platform itself did (the SLA's escalation).
SYSTEM_ACTOR = uuid.UUID(int=0)
RELEASED = (WithdrawalStatus.rejected, WithdrawalStatus.cancelled)


def record(engine: Engine, t: FundsTransition) -> FundsTransitionResult:
    with session_scope(engine) as session:
        row = session.exec(
            select(Withdrawal).where(col(Withdrawal.id) == uuid.UUID(t.funds_id)).with_for_update()
        ).one()
        actor = uuid.UUID(t.actor_id) if t.actor_type == "staff" and t.actor_id else None
        to = WithdrawalStatus(t.to_status)
        first_approval = to == WithdrawalStatus.requested
        # A retried step: already applied (the first approval is applied once it is set).
        if (row.status == to and not first_approval) or (
            first_approval and row.first_approved_by is not None
        ):
            return FundsTransitionResult(t.funds_id, row.status.value, has_url(session, t))
        apply(session, row, to, actor, t)
        changed, row.status = row.status != to, to
        row.updated_at = utcnow()
        if changed:
            notify.withdrawal_changed(session, row)
        has = write_delivery(session, row, t) if t.event_id and t.event_type else False
        return FundsTransitionResult(t.funds_id, row.status.value, has)


def apply(
    session: Session, row: Withdrawal, to: WithdrawalStatus, actor: uuid.UUID | None,
    t: FundsTransition,
) -> None:  # fmt: skip
    if to == WithdrawalStatus.requested:
        row.first_approved_by = actor
    elif to == WithdrawalStatus.approved:
        row.approved_by = actor
    elif to == WithdrawalStatus.paid:
        row.paid_by, row.tx_hash, row.proof_key = actor, t.tx_hash, t.proof_key
    elif to in RELEASED:
        row.reason = t.reason
        resolve_hold(session, None, HoldStatus.voided, withdrawal_id=row.id)
    elif to == WithdrawalStatus.completed:
        complete(session, row)


def complete(session: Session, row: Withdrawal) -> None:
    """The hold leaves the owner's held amount in the same UPDATE as the posting."""
    claimed = claim_hold(session, None, HoldStatus.posted, withdrawal_id=row.id)
    owner = Owner(row.owner_kind, row.owner_id)
    payout = account_for(session, AccountKind.platform_payout, None, row.currency)
    profit = account_for(session, AccountKind.platform_profit, None, row.currency)
    assert claimed is not None, "a withdrawal completes its own pending hold"
    legs = [
        Leg(claimed.account_id, -(row.amount_minor + row.fee_minor)),
        Leg(payout.id, row.amount_minor),
    ]
    if row.fee_minor:
        legs.append(Leg(profit.id, row.fee_minor))
    post(session, f"withdrawal:{row.id}", "withdrawal", legs, release=claimed)
    log.info("withdrawal %s completed (%s)", row.id, owner.kind)


def has_url(session: Session, t: FundsTransition) -> bool:
    if not t.event_id:
        return False
    url = session.exec(
        select(CallbackDelivery.url).where(CallbackDelivery.event_id == t.event_id)
    ).first()
    return bool(url)


def event_body(session: Session, event_id: str, event_type: str, row: Withdrawal) -> str:
    units = minor_units(session, row.currency)
    data = {
        "withdrawal_id": str(row.id),
        "status": row.status.value,
        "amount": to_decimal(row.amount_minor, units),
        "fee": to_decimal(row.fee_minor, units),
        "currency": row.currency,
        "destination_kind": row.destination_kind,
        "destination": row.destination_masked,
        "tx_hash": row.tx_hash,
        "reason": row.reason,
        "created_at": as_utc(row.created_at).isoformat(),
        "updated_at": as_utc(row.updated_at).isoformat(),
    }
    event = {"id": event_id, "type": event_type, "created_at": utcnow().isoformat(), "data": data}
    return json.dumps(event, separators=(",", ":"))


def write_delivery(session: Session, row: Withdrawal, t: FundsTransition) -> bool:
    """A store's event, delivered like an order's (signed, over the retry ladder)."""
    assert t.event_id and t.event_type and row.owner_kind == OwnerKind.store
    store = session.get(Store, row.owner_id)
    assert store is not None
    url = store.callback_url
    session.add(
        CallbackDelivery(
            event_id=t.event_id,
            withdrawal_id=row.id,
            store_id=store.id,
            event_type=t.event_type,
            url=url,
            body=event_body(session, t.event_id, t.event_type, row),
            status=DeliveryStatus.pending if url else DeliveryStatus.skipped,
        )
    )
    return bool(url)


def escalate(engine: Engine, inp: EscalateWithdrawal) -> bool:
    """Past its SLA: flagged once, audited, counted; nothing is decided."""
    with session_scope(engine) as session:
        row = session.get(Withdrawal, uuid.UUID(inp.withdrawal_id))
        if row is None or row.escalated_at is not None:
            return False
        row.escalated_at = utcnow()
        session.add(
            AuditEntry(
                actor_user_id=SYSTEM_ACTOR,
                action="system: withdrawal SLA",
                target_type="Withdrawal",
                target_id=str(row.id),
                before={"status": row.status.value},
                after={"status": row.status.value, "escalated": True, "sla_s": inp.sla_s},
            )
        )
    WITHDRAWALS_ESCALATED.inc()
    log.warning(
        "withdrawal %s waited past its SLA of %s s: escalated", inp.withdrawal_id, inp.sla_s
    )
    return True
