"""Fraud rules administration: validation, edits and deletions audited; velocity windows
counted in Redis when configured and in the process otherwise."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlmodel import Session, select

from core.context import ServiceContext
from models.audit import AuditEntry
from models.fraud import FraudAction, FraudRule, FraudRuleKind, VelocityKey
from processing.risk.fraud import Screener
from tests.processing.conftest import make_store, new_currency
from tests.processing.payout_kit import create_rule


async def test_rule_validation_and_audit(
    api: httpx.AsyncClient, ctx: ServiceContext, admin_headers: dict[str, str]
) -> None:
    cases = [
        {"name": "x", "kind": "amount", "action": "deny", "amount_over_minor": 100},  # no store
        {"name": "x", "kind": "velocity", "action": "deny", "velocity_key": "ip"},  # no limit
        {
            "name": "x",
            "kind": "velocity",
            "action": "allow",
            "velocity_key": "ip",
            "velocity_limit": 1,
            "window_seconds": 60,
        },
        {
            "name": "x",
            "kind": "velocity",
            "action": "deny",
            "velocity_key": "ip",
            "velocity_limit": True,
            "window_seconds": 60,
        },
        {
            "name": "x",
            "kind": "velocity",
            "action": "deny",
            "velocity_key": "ip",
            "velocity_limit": 1,
            "window_seconds": 60,
            "surprise": 1,
        },
    ]
    for body in cases:
        response = await api.post("/api/admin/fraud/rules", json=body, headers=admin_headers)
        assert response.status_code == 422, (body, response.text)
    currency = new_currency(ctx)
    store = make_store(ctx, currency)
    rule = await create_rule(
        api,
        admin_headers,
        name="big",
        kind="amount",
        action="deny",
        store_id=str(store.store_id),
        amount_over_minor=100,
    )
    wrong = await api.patch(
        f"/api/admin/fraud/rules/{rule['id']}", json={"velocity_limit": 3}, headers=admin_headers
    )
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (422, "invalid_rule")
    changed = await api.patch(
        f"/api/admin/fraud/rules/{rule['id']}",
        json={"is_active": False, "action": "review"},
        headers=admin_headers,
    )
    assert changed.json()["is_active"] is False and changed.json()["action"] == "review"
    gone = await api.delete(f"/api/admin/fraud/rules/{rule['id']}", headers=admin_headers)
    assert gone.status_code == 204
    assert (
        await api.delete(f"/api/admin/fraud/rules/{rule['id']}", headers=admin_headers)
    ).status_code == 404
    with Session(ctx.engine) as session:
        actions = session.exec(
            select(AuditEntry.action).where(AuditEntry.target_id == rule["id"])
        ).all()
        assert sorted(actions) == [
            "DELETE /api/admin/fraud/rules/{rule_id}",
            "PATCH /api/admin/fraud/rules/{rule_id}",
            "POST /api/admin/fraud/rules",
        ]


@pytest.mark.parametrize("storage", ["redis", "memory"])
def test_velocity_windows_count_in_redis_or_in_process(ctx: ServiceContext, storage: str) -> None:
    """Redis when REDIS_URL is set (shared by every worker), in the process otherwise."""
    settings = ctx.settings
    if storage == "memory":
        settings = settings.model_copy(update={"redis_url": None})
    elif not settings.redis_url:
        pytest.skip("no REDIS_URL in this run")
    screener = Screener(settings)
    assert type(screener.limiter.storage).__name__ == (
        "RedisStorage" if storage == "redis" else "MemoryStorage"
    )
    rule = FraudRule(
        name="2 per minute",
        kind=FraudRuleKind.velocity,
        action=FraudAction.deny,
        velocity_key=VelocityKey.customer_id,
        velocity_limit=2,
        window_seconds=60,
    )
    value = uuid.uuid4().hex
    assert screener.allows(rule, value)
    screener.count([(rule, value), (rule, value)])
    assert not screener.allows(rule, value)
    assert screener.allows(rule, uuid.uuid4().hex)
    # another process sharing Redis sees the same count; an in-process window does not
    other = Screener(settings)
    assert other.allows(rule, value) is (storage == "memory")
