"""Admin category rules: validation, and re-categorisation through the durable workflow."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlmodel import Session, select
from temporalio.client import Client

from analytics import DEFAULT_RULES
from contracts.analytics import RECATEGORISE_WORKFLOW_ID
from core.context import ServiceContext
from models.banking import BankTransaction
from models.users import Role
from tests.connect_analytics.conftest import NewUser, snapshot
from tests.factories import Actor, actor

RULES = "/api/admin/category-rules"


@pytest.fixture
async def admin(api: httpx.AsyncClient, ctx: ServiceContext) -> Actor:
    return await actor(api, ctx.engine, Role.admin)


async def test_rules_are_seeded_and_validated(
    api: httpx.AsyncClient, admin: Actor, new_user: NewUser
) -> None:
    listed = await api.get(RULES, headers=admin.headers)
    assert listed.status_code == 200
    ids = [rule["id"] for rule in listed.json()]
    assert {rule.id for rule in DEFAULT_RULES} <= set(ids)

    bad_regex = await api.post(
        RULES, headers=admin.headers, json={"priority": 5, "category": "x", "text_pattern": "(["}
    )
    assert bad_regex.status_code == 422
    assert bad_regex.json()["error"]["code"] == "invalid_rule_pattern"
    catch_all = await api.post(RULES, headers=admin.headers, json={"priority": 5, "category": "x"})
    assert catch_all.json()["error"]["code"] == "rule_without_criteria"
    bad_patch = await api.patch(
        f"{RULES}/salary-text", headers=admin.headers, json={"text_pattern": "a)"}
    )
    assert bad_patch.json()["error"]["code"] == "invalid_rule_pattern"
    missing = await api.delete(f"{RULES}/no-such-rule", headers=admin.headers)
    assert missing.status_code == 404

    user, _ = await new_user()
    forbidden = await api.get(RULES, headers=user.headers)
    assert forbidden.status_code == 403


def _categories(ctx: ServiceContext, user: Actor) -> set[str | None]:
    with Session(ctx.engine) as session:
        query = select(BankTransaction.category).where(BankTransaction.user_id == user.user_id)
        return set(session.exec(query))


async def _changed(
    api: httpx.AsyncClient, client: Client, admin: Actor, method: str, path: str, **kw: Any
) -> dict[str, Any]:
    """Change a rule and wait for the re-categorisation it starts."""
    response = await api.request(method, path, headers=admin.headers, **kw)
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    assert body["recategorisation_workflow_id"] == RECATEGORISE_WORKFLOW_ID
    await client.get_workflow_handle(RECATEGORISE_WORKFLOW_ID).result()
    return body


@pytest.mark.usefixtures("worker")
async def test_rule_changes_recategorise_stored_transactions(
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    temporal_client: Client,
    admin: Actor,
    new_user: NewUser,
) -> None:
    token = f"zzq{secrets.token_hex(4)}"
    user, data = await new_user()
    acc = data.account("acc-1", balance_rub=10_000)
    today = datetime.now(UTC).date()
    for back in (5, 35, 65):
        data.tx(acc, today - timedelta(days=back), -1_500, f"Клуб {token}")
    data.save(ctx.engine)
    snapshot(ctx, user, datetime.now(UTC))
    assert _categories(ctx, user) == {"other"}

    rule = {"id": f"test-{token}", "priority": 1, "category": "entertainment"}
    created = await _changed(
        api, temporal_client, admin, "POST", RULES, json={**rule, "text_pattern": token}
    )
    assert created["rule"]["text_pattern"] == token
    assert _categories(ctx, user) == {"entertainment"}
    # The workflow also stored a new snapshot for the user whose categories changed.
    summary = await api.get("/api/transactions/summary?period=90d", headers=user.headers)
    by_category = summary.json()["currencies"][0]["spending_by_category"]
    assert by_category == [
        {"category": "entertainment", "amount_minor": 450_000, "amount": "4500.00"}
    ]

    path = f"{RULES}/{rule['id']}"
    await _changed(api, temporal_client, admin, "PATCH", path, json={"category": "health"})
    assert _categories(ctx, user) == {"health"}

    await _changed(api, temporal_client, admin, "DELETE", path)
    assert _categories(ctx, user) == {"other"}
