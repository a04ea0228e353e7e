"""Fraud screening: block lists, amount thresholds and velocity, before a pay-in is matched
and before a pay-out is held; and the administration of rules and lists.

Velocity counts live in the `limits` package's moving windows, in Redis when `REDIS_URL` is
set (shared by every worker) and in the process otherwise. An order is counted once its
screening has committed, so a retried activity never counts it twice; a worker that dies
between the commit and the count leaves that one order uncounted, and orders screened at the
same moment may each see the count before the other's (the limit is exact for orders that
arrive one after another, as a customer's usually do).
Values on block lists are keyed fingerprints: a card or phone number is never stored.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from limits import RateLimitItemPerSecond
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, or_, select

from contracts.processing import OrderKind
from core.addresses import canonical_ip
from core.errors import Conflict, Invalid, NotFound
from core.security import mask_number
from core.settings import Settings
from models.base import utcnow
from models.fraud import (
    BlockKind,
    BlockListCreate,
    BlockListEntry,
    Direction,
    FraudAction,
    FraudRule,
    FraudRuleCreate,
    FraudRuleKind,
    FraudRuleUpdate,
    VelocityKey,
)
from models.merchants import Store
from models.orders import Order
from models.traders import normalize_number


def fingerprint(key: str, kind: BlockKind | str, value: str) -> str:
    """Keyed hash of a screened value, normalised per kind (digits of a number, the canonical
    form of an address), so the same card typed with spaces matches."""
    if kind in (BlockKind.card, BlockKind.phone):
        value = normalize_number(value)
    elif kind == BlockKind.ip:
        value = canonical_ip(value)
    return _keyed(key, kind, value)


def _keyed(key: str, kind: BlockKind | str, value: str) -> str:
    message = f"{kind}:{value}".encode()
    return hmac.new(f"fraud:{key}".encode(), message, hashlib.sha256).hexdigest()


def legacy_ip_fingerprint(key: str, canonical: str) -> str | None:
    """The fingerprint an IPv4 address got before addresses were canonical, when an admin
    blocked it written as IPv4-mapped IPv6 (kept as Python printed that: `::ffff:cb00:7107`).
    Screening looks such entries up too, so no block stored before is lost (the value itself
    is not stored, so the entries cannot be re-keyed)."""
    address = ipaddress.ip_address(canonical)
    if not isinstance(address, ipaddress.IPv4Address):
        return None
    return _keyed(key, BlockKind.ip, str(ipaddress.IPv6Address(f"::ffff:{address}")))


@dataclass
class Screening:
    """What the rules decided for one order, and the velocity counts to take once committed."""

    decision: FraudAction | None = None
    hits: list[dict[str, Any]] = field(default_factory=list)
    counts: list[tuple[FraudRule, str]] = field(default_factory=list)

    def fire(self, source: str, row_id: uuid.UUID, name: str, action: FraudAction) -> None:
        self.hits.append(
            {"source": source, "id": str(row_id), "name": name, "action": action.value}
        )
        if action == FraudAction.deny or self.decision is None:
            self.decision = action

    @property
    def outcome(self) -> str:
        return self.decision.value if self.decision else "allow"


class Screener:
    """Holds the fingerprint key and the velocity windows a worker process screens with."""

    def __init__(self, settings: Settings) -> None:
        self.key = settings.fingerprint_secret
        uri = settings.redis_url or "memory://"
        self.limiter = MovingWindowRateLimiter(storage_from_string(uri))
        self.prefix = f"{settings.redis_key_prefix}fraud"

    # -- the values an order is screened by ------------------------------------------------
    def order_keys(self, order: Order) -> dict[str, str]:
        """Velocity / block-list key → fingerprint, for the values this order carries."""
        keys: dict[str, str] = {}
        if order.customer_id:
            keys[BlockKind.customer_id] = fingerprint(
                self.key, BlockKind.customer_id, order.customer_id
            )
        if order.customer_ip:
            keys[BlockKind.ip] = fingerprint(self.key, BlockKind.ip, order.customer_ip)
        if order.recipient_fingerprint and order.recipient_kind:
            keys[order.recipient_kind] = order.recipient_fingerprint
        return keys

    def recipient_fingerprint(self, kind: str, number: str) -> str:
        return fingerprint(self.key, kind, number)

    # -- screening -------------------------------------------------------------------------
    def screen(self, session: Session, order: Order) -> Screening:
        result = Screening()
        keys = self.order_keys(order)
        listed = list(keys.items())
        if order.customer_ip:
            legacy = legacy_ip_fingerprint(self.key, canonical_ip(order.customer_ip))
            listed += [(BlockKind.ip, legacy)] if legacy else []
        if listed:
            blocked = session.exec(
                select(BlockListEntry).where(
                    or_(
                        *(
                            (col(BlockListEntry.kind) == kind) & (BlockListEntry.fingerprint == fp)
                            for kind, fp in listed
                        )
                    )
                )
            ).all()
            for entry in blocked:
                result.fire("block_list", entry.id, f"{entry.kind}", FraudAction.deny)
        for rule in active_rules(session, order.kind, order.store_id):
            if rule.kind == FraudRuleKind.amount:
                assert rule.amount_over_minor is not None
                if order.amount_minor > rule.amount_over_minor:
                    result.fire("rule", rule.id, rule.name, rule.action)
                continue
            value = self._velocity_value(rule, order, keys)
            if value is None:
                continue
            if not self.allows(rule, value):
                result.fire("rule", rule.id, rule.name, rule.action)
            result.counts.append((rule, value))
        return result

    def _velocity_value(self, rule: FraudRule, order: Order, keys: dict[str, str]) -> str | None:
        if rule.velocity_key == VelocityKey.customer_id:
            return keys.get(BlockKind.customer_id)
        if rule.velocity_key == VelocityKey.ip:
            return keys.get(BlockKind.ip)
        if rule.velocity_key == VelocityKey.recipient:
            return order.recipient_fingerprint
        return None  # requisite velocity is applied by matching, per candidate

    def _item(self, rule: FraudRule) -> RateLimitItemPerSecond:
        assert rule.velocity_limit and rule.window_seconds
        return RateLimitItemPerSecond(rule.velocity_limit, rule.window_seconds)

    def allows(self, rule: FraudRule, value: str) -> bool:
        """Whether one more order under this value stays within the rule's limit."""
        return self.limiter.test(self._item(rule), self.prefix, str(rule.id), value)

    def count(self, counts: Iterable[tuple[FraudRule, str]]) -> None:
        for rule, value in counts:
            self.limiter.hit(self._item(rule), self.prefix, str(rule.id), value)


def active_rules(
    session: Session, kind: OrderKind | str, store_id: uuid.UUID, velocity_key: str | None = None
) -> list[FraudRule]:
    # Read once per session: screening and matching in one transaction share the list.
    key = ("active_fraud_rules", str(kind), store_id)
    rules = session.info.get(key)
    if rules is None:
        query = select(FraudRule).where(
            col(FraudRule.is_active).is_(True),
            col(FraudRule.direction).in_([Direction.both, Direction(kind)]),
            or_(col(FraudRule.store_id).is_(None), col(FraudRule.store_id) == store_id),
        )
        rules = session.info[key] = session.exec(query.order_by(col(FraudRule.created_at))).all()
    if velocity_key is None:
        return [r for r in rules if r.velocity_key != VelocityKey.requisite]
    return [r for r in rules if r.velocity_key == velocity_key]


# -- administration -----------------------------------------------------------------------
def rules(session: Session) -> list[FraudRule]:
    return list(session.exec(select(FraudRule).order_by(col(FraudRule.created_at))).all())


def _rule(session: Session, rule_id: uuid.UUID) -> FraudRule:
    rule = session.get(FraudRule, rule_id)
    if rule is None:
        raise NotFound("Fraud rule not found", code="fraud_rule_not_found")
    return rule


def create_rule(session: Session, body: FraudRuleCreate) -> FraudRule:
    if body.store_id is not None and session.get(Store, body.store_id) is None:
        raise Invalid("Unknown store", code="unknown_store")
    rule = FraudRule.model_validate(body.model_dump())
    session.add(rule)
    session.commit()
    session.refresh(rule)
    return rule


def update_rule(session: Session, rule_id: uuid.UUID, body: FraudRuleUpdate) -> FraudRule:
    rule = _rule(session, rule_id)
    changes = body.model_dump(exclude_unset=True)
    refused = sorted(k for k, v in changes.items() if v is None)
    if refused:
        raise Invalid(
            f"null is not allowed for {', '.join(refused)}",
            code="null_not_allowed",
            details={"fields": refused},
        )
    amount_fields = {"amount_over_minor"}
    velocity_fields = {"velocity_limit", "window_seconds"}
    wrong = (velocity_fields if rule.kind == FraudRuleKind.amount else amount_fields) & set(changes)
    if wrong:
        raise Invalid(f"a {rule.kind} rule has no {', '.join(sorted(wrong))}", code="invalid_rule")
    rule.sqlmodel_update(changes)
    rule.updated_at = utcnow()
    session.add(rule)
    session.commit()
    session.refresh(rule)
    return rule


def delete_rule(session: Session, rule_id: uuid.UUID) -> None:
    session.delete(_rule(session, rule_id))
    session.commit()


def block_list(session: Session) -> list[BlockListEntry]:
    query = select(BlockListEntry).order_by(col(BlockListEntry.created_at))
    return list(session.exec(query).all())


def _label(body: BlockListCreate) -> str:
    # An address is already in its one form (the model): the label shows and audits that.
    if body.kind in (BlockKind.card, BlockKind.phone):
        return mask_number(normalize_number(body.value)[-4:])
    return body.value


def add_to_block_list(
    session: Session, body: BlockListCreate, *, key: str, user_id: uuid.UUID
) -> BlockListEntry:
    entry = BlockListEntry(
        kind=body.kind,
        fingerprint=fingerprint(key, body.kind, body.value),
        label=_label(body),
        reason=body.reason,
        created_by=user_id,
    )
    session.add(entry)
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict("This value is already on the block list", code="already_blocked") from exc
    session.refresh(entry)
    return entry


def remove_from_block_list(session: Session, entry_id: uuid.UUID) -> None:
    entry = session.get(BlockListEntry, entry_id)
    if entry is None:
        raise NotFound("Block-list entry not found", code="block_list_entry_not_found")
    session.delete(entry)
    session.commit()
