"""The Connect API's contracts: named schemas in /openapi.json that real answers match exactly."""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import BaseModel

from core.context import ServiceContext
from models.banking import AccountKind
from models.connect import ConnectionStatus
from models.dashboard import DashboardPublic
from models.insights import (
    DebtsPublic,
    NextPaymentsPublic,
    ProductsPublic,
    RecurringBillsPublic,
    TransactionsSummaryPublic,
)
from tests.connect_analytics.bankdata import steady_earner
from tests.connect_analytics.conftest import NewUser, snapshot
from tests.factories import Actor

SCHEMA_REF = "#/components/schemas/"
ANSWERS: dict[str, type[BaseModel]] = {
    "/api/dashboard": DashboardPublic,
    "/api/debts": DebtsPublic,
    "/api/debts/next-payment": NextPaymentsPublic,
    "/api/products": ProductsPublic,
    "/api/transactions/summary?period=30d": TransactionsSummaryPublic,
    "/api/transactions/recurring": RecurringBillsPublic,
}


def _success_schema(operation: dict[str, Any]) -> dict[str, Any]:
    [status] = [code for code in operation["responses"] if code.startswith("2")]
    schema: dict[str, Any] = operation["responses"][status]["content"]["application/json"]["schema"]
    return schema


def _named(schema: dict[str, Any]) -> bool:
    """A $ref to a component, or an array of them; never a bare or empty object."""
    if schema.get("type") == "array":
        schema = schema["items"]
    return str(schema.get("$ref", "")).startswith(SCHEMA_REF)


async def test_every_connect_route_answers_a_named_schema(api: httpx.AsyncClient) -> None:
    spec = (await api.get("/openapi.json")).json()
    connect = {
        (method.upper(), path): operation
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if path.startswith("/api/") and "connect" in operation.get("tags", [])
    }
    for key in [("GET", p) for p in ("/api/dashboard", "/api/debts", "/api/products")]:
        assert key in connect
    unnamed = {key: _success_schema(op) for key, op in connect.items()}
    unnamed = {key: schema for key, schema in unnamed.items() if not _named(schema)}
    assert unnamed == {}
    summary = connect[("GET", "/api/transactions/summary")]
    assert _success_schema(summary) == {"$ref": f"{SCHEMA_REF}TransactionsSummaryPublic"}
    assert _success_schema(connect[("GET", "/api/dashboard")]) == {
        "$ref": f"{SCHEMA_REF}DashboardPublic"
    }
    # Two response models of one name are renamed `models__module__Name` (clients break).
    names = spec["components"]["schemas"]
    assert [n for n in names if n.startswith("models__") and n.endswith("Public")] == []


async def _user_with_a_snapshot(ctx: ServiceContext, new_user: NewUser) -> Actor:
    user, data = await new_user()
    steady_earner(data)
    usd = data.account("acc-U", bank="abank", balance_rub=1_000, currency="USD")
    data.monthly(usd, ["2026-01-07", "2026-02-07", "2026-03-07"], -50, "Cloud", counterparty="AWS")
    data.account("acc-L", "Loan", 500_000, "abank", AccountKind.liability, "**12")
    data.loan_agreement("agr-1", "abank", 600_000, "12", "2028-02-20", "**12")
    data.loan_agreement("agr-2", "vbank", 120_000, None, None, None)
    data.connection("vbank", consent_days_left=3)
    data.connection("abank", ConnectionStatus.reconsent_required, consent_days_left=None)
    data.save(ctx.engine)
    snapshot(ctx, user)
    return user


async def test_answers_are_exactly_their_models(
    api: httpx.AsyncClient, ctx: ServiceContext, new_user: NewUser
) -> None:
    owner = await _user_with_a_snapshot(ctx, new_user)
    nobody, _ = await new_user()
    for user in (owner, nobody):
        for path, model in ANSWERS.items():
            response = await api.get(path, headers=user.headers)
            assert response.status_code == 200, response.text
            body = response.json()
            # Unknown keys are refused, and dumping gives back every key, value and null.
            assert model.model_validate(body).model_dump(mode="json") == body, path

    response = await api.get("/api/dashboard", headers=owner.headers)
    dashboard = DashboardPublic.model_validate(response.json())
    assert dashboard.status == "ready" and dashboard.metrics is not None
    assert [h.currency for h in dashboard.metrics.other_currencies] == ["USD"]
    assert [loan.agreement_id for loan in dashboard.debts] == ["agr-1", "agr-2"]
    assert {(a.bank_code, a.reason) for a in dashboard.attention} == {
        ("vbank", "consent_expiring_soon"),
        ("abank", "reconsent_required"),
    }


async def test_consents_name_the_banks_ids_apart_from_ours(
    api: httpx.AsyncClient, ctx: ServiceContext, new_user: NewUser
) -> None:
    user, data = await new_user()
    data.connection("vbank")
    data.save(ctx.engine)
    [consent] = (await api.get("/api/consents", headers=user.headers)).json()
    assert consent["bank_request_id"].startswith("req-")
    assert consent["bank_consent_id"].startswith("consent-")
    assert "consent_id" not in consent and "request_id" not in consent
    # Our row id is what DELETE takes; someone else's consent is a 404.
    stranger, _ = await new_user()
    foreign = await api.delete(f"/api/consents/{consent['id']}", headers=stranger.headers)
    assert foreign.status_code == 404
    assert foreign.json()["error"]["code"] == "consent_not_found"
