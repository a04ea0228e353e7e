"""The OpenAPI document says what the server enforces: paging is bounded in the declaration
(no offset the database cannot hold), inputs use standard formats and patterns that the
server applies exactly, and a 405 lists every method of the resource."""

from __future__ import annotations

from typing import Any

import httpx

from core.context import ServiceContext
from models.users import Role
from tests.factories import actor

PAGING = {"page", "page_size", "limit", "offset", "cursor"}


async def _spec(api: httpx.AsyncClient) -> dict[str, Any]:
    spec: dict[str, Any] = (await api.get("/openapi.json")).json()
    return spec


def _bounded(schema: dict[str, Any]) -> bool:
    options = schema.get("anyOf", [schema])
    return all(
        "maximum" in option or "maxLength" in option
        for option in options
        if option.get("type") != "null"
    )


async def test_every_paging_parameter_is_bounded(api: httpx.AsyncClient) -> None:
    spec = await _spec(api)
    unbounded = [
        (method, path, parameter["name"])
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        for parameter in operation.get("parameters", [])
        if parameter["name"] in PAGING and not _bounded(parameter["schema"])
    ]
    assert unbounded == []


async def test_a_huge_page_is_refused_not_a_500(
    api: httpx.AsyncClient, ctx: ServiceContext
) -> None:
    user = await actor(api, ctx.engine, Role.connect_user)
    for page in (2**62, 10**30):
        answer = await api.get(f"/api/transactions?page={page}", headers=user.headers)
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["code"] == "validation_error"
    last = await api.get("/api/transactions?page=1000000&page_size=500", headers=user.headers)
    assert last.status_code == 200, last.text
    assert last.json()["items"] == []


async def test_a_405_lists_every_method_of_the_resource(api: httpx.AsyncClient) -> None:
    answer = await api.request("OPTIONS", "/api/admin/fraud/rules")
    assert answer.status_code == 405
    assert answer.json()["error"]["code"] == "method_not_allowed"
    allowed = {method.strip() for method in answer.headers["Allow"].split(",")}
    assert {"GET", "POST"} <= allowed and "DELETE" not in allowed
    one = await api.put("/api/admin/fraud/rules/6b1f0a64-0d6e-4f7a-9d5e-0a1b2c3d4e5f")
    assert {m.strip() for m in one.headers["Allow"].split(",")} >= {"PATCH", "DELETE"}


async def test_inputs_use_standard_formats_and_the_servers_patterns(
    api: httpx.AsyncClient,
) -> None:
    spec = await _spec(api)
    schemas = spec["components"]["schemas"]
    payin = schemas["PayinCreate"]["properties"]
    assert "ipvanyaddress" not in str(spec)
    assert {"format": "ipv4", "type": "string"} in payin["customer_ip"]["anyOf"]
    assert payin["amount"]["pattern"].startswith("^")
    assert payin["callback_url"]["anyOf"][0]["pattern"].startswith("^[Hh][Tt][Tt][Pp]")
    assert "binary" not in str(payin)
    for path, field in [
        ("/api/gateway/payins/{order_id}/paid", "receipt"),
        ("/api/gateway/payins/{order_id}/dispute", "evidence"),
        ("/api/trader/orders/{order_id}/confirm", "receipt"),
        ("/api/trader/payouts/{order_id}/paid", "proof"),
    ]:
        body = spec["paths"][path]["post"]["requestBody"]["content"]["multipart/form-data"]
        name = body["schema"]["$ref"].rsplit("/", 1)[1]
        upload = schemas[name]["properties"][field]
        assert '"format": "binary"' in str(upload).replace("'", '"'), (path, upload)
    pool = spec["paths"]["/api/trader/payouts/available"]["get"]["responses"]
    assert "409" in pool


async def test_the_server_takes_what_the_document_allows_and_nothing_else(
    api: httpx.AsyncClient, ctx: ServiceContext
) -> None:
    merchant = await actor(api, ctx.engine, Role.merchant)
    store = await api.post("/api/merchant/stores", json={"name": "S"}, headers=merchant.headers)
    rotate = f"/api/merchant/stores/{store.json()['id']}/rotate-signing-secret"
    # An integer is 2 or 2.0 (JSON Schema's integer), never true or "2".
    for refused in (False, "2"):
        answer = await api.post(rotate, json={"overlap_hours": refused}, headers=merchant.headers)
        assert answer.status_code == 422, (refused, answer.text)
    whole = await api.post(rotate, json={"overlap_hours": 2.0}, headers=merchant.headers)
    assert whole.status_code == 200, whole.text
    # A date-time is RFC 3339 (or a date), never a Unix time or one without its offset.
    for refused in ("0.5", "2030-01-01T00:00:00", "2030-02-30"):
        answer = await api.get(
            f"/api/merchant/orders?created_to={refused}", headers=merchant.headers
        )
        assert answer.status_code == 422, (refused, answer.text)
    for taken in ("2030-01-01", "2030-01-01T00:00:00Z", "9999-12-31T23:59:59-23:59"):
        answer = await api.get(
            "/api/merchant/orders", params={"created_to": taken}, headers=merchant.headers
        )
        assert answer.status_code == 200, (taken, answer.text)
