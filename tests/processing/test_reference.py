"""Public reference lists: no credentials, an ETag, 304 when unchanged."""

from __future__ import annotations

import httpx
import pytest

from core.context import ServiceContext


@pytest.mark.parametrize("kind", ["currencies", "banks", "payment-methods"])
async def test_reference_lists_are_public_and_conditional(
    api: httpx.AsyncClient, ctx: ServiceContext, kind: str
) -> None:
    first = await api.get(f"/api/reference/{kind}")
    assert first.status_code == 200, first.text
    assert isinstance(first.json(), list) and "ETag" in first.headers
    again = await api.get(
        f"/api/reference/{kind}", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304 and again.content == b""
    other = await api.get(f"/api/reference/{kind}", headers={"If-None-Match": '"stale"'})
    assert other.status_code == 200 and other.json() == first.json()
    keys = {"code", "name", "minor_units"} if kind == "currencies" else {"code", "name"}
    assert all(set(item) == keys for item in first.json())
