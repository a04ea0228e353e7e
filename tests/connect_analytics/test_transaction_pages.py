"""`GET /api/transactions` at a heavy user's size: keyset pages that neither skip nor repeat a
row while the user's history is large, and a total counted only up to 1,000."""

from __future__ import annotations

from datetime import date, timedelta

import httpx

from core.context import ServiceContext
from tests.connect_analytics.conftest import NewUser

DAYS = 400  # 1,200 rows: three a day, so rows share a booking time (the id breaks the tie)


async def _all_by_cursor(api: httpx.AsyncClient, headers: dict[str, str], **params: str) -> list:
    seen: list = []
    cursor = None
    while True:
        query = {"page_size": "170", **params} | ({"cursor": cursor} if cursor else {})
        response = await api.get("/api/transactions", params=query, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        seen += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return seen


async def test_cursor_pages_cover_every_row_once_and_total_stops_counting_at_1000(
    api: httpx.AsyncClient, ctx: ServiceContext, new_user: NewUser
) -> None:
    user, data = await new_user()
    account = data.account("acc-1")
    first = date(2025, 1, 1)
    for n in range(DAYS):
        for amount in (-100, -200, 300):
            data.tx(account, first + timedelta(days=n), amount, f"day {n}")
    data.save(ctx.engine)

    rows = await _all_by_cursor(api, user.headers)
    assert len(rows) == 3 * DAYS and len({row["id"] for row in rows}) == 3 * DAYS
    keys = [(row["booked_at"], row["id"]) for row in rows]
    assert keys == sorted(keys, reverse=True)

    response = await api.get("/api/transactions", headers=user.headers)
    body = response.json()
    assert (body["total"], body["total_exact"]) == (1000, False)
    # The numbered pages are the same rows in the same order.
    second = await api.get("/api/transactions", params={"page": 2}, headers=user.headers)
    assert [row["id"] for row in second.json()["items"]] == [row["id"] for row in rows[50:100]]

    # A filtered list under the cap counts exactly: the last 100 days.
    since = (first + timedelta(days=DAYS - 100)).isoformat() + "T00:00:00Z"
    recent = await _all_by_cursor(api, user.headers, **{"from": since})
    assert len(recent) == 300 and recent == rows[:300]
    counted = await api.get("/api/transactions", params={"from": since}, headers=user.headers)
    assert (counted.json()["total"], counted.json()["total_exact"]) == (300, True)


async def test_a_cursor_and_a_page_together_or_a_made_up_cursor_is_a_422(
    api: httpx.AsyncClient, new_user: NewUser
) -> None:
    user, _ = await new_user()
    both = await api.get(
        "/api/transactions",
        params={"page": 2, "cursor": f"1700000000000000-{'a' * 32}"},
        headers=user.headers,
    )
    assert both.status_code == 422 and both.json()["error"]["code"] == "cursor_with_page"
    made_up = await api.get(
        "/api/transactions", params={"cursor": "yesterday"}, headers=user.headers
    )
    assert made_up.status_code == 422
    assert made_up.json()["error"]["code"] == "validation_error"
    empty = await api.get(
        "/api/transactions", params={"cursor": f"1700000000000000-{'a' * 32}"}, headers=user.headers
    )
    assert empty.status_code == 200
    assert empty.json() | {"items": []} == {
        "items": [],
        "page": 1,
        "page_size": 50,
        "total": 0,
        "total_exact": True,
        "next_cursor": None,
    }
