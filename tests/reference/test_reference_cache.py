"""Every API process sees a reference change at once: two uvicorn processes of the app on the
same database and Redis (the second keeps its lists in its own memory), and one process
without Redis (the in-process default)."""

from __future__ import annotations

import contextlib
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import SQLModel

from api.main import create_app
from core.cache import MemoryCache, RedisCache, VersionedCache
from core.context import ServiceContext
from launcher.services import free_port, start_process, wait_for_port
from models.users import Role
from processing.platform.reference_rules import KINDS
from tests.factories import create_user, login, worker_env
from tests.reference.kit import ADMIN, created, currency_code, lower_code


@contextlib.contextmanager
def api_process(env: dict[str, str], log: Path) -> Iterator[str]:
    """`uvicorn --factory api.main:create_default_app`, as `make run` serves the API."""
    port = free_port()
    args = [sys.executable, "-m", "uvicorn", "--factory", "api.main:create_default_app"]
    args += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    proc = start_process("api", args, log, env)
    try:
        wait_for_port(proc, "127.0.0.1", port)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.stop()


async def _codes(client: httpx.AsyncClient, kind: str) -> dict[str, str]:
    answer = await client.get(f"/api/reference/{kind}")
    assert answer.status_code == 200, answer.text
    return {item["code"]: item["name"] for item in answer.json()}


async def test_a_change_through_one_process_is_read_at_once_through_another(
    ctx: ServiceContext, tmp_path: Path
) -> None:
    # Both processes share the suite's database and Redis, under a prefix of their own.
    env = worker_env(ctx, "unused") | {"REDIS_KEY_PREFIX": f"refcache-{uuid.uuid4().hex[:8]}:"}
    with (
        api_process(env, tmp_path / "one.log") as one,
        api_process(env, tmp_path / "two.log") as two,
    ):
        async with (
            httpx.AsyncClient(base_url=one) as first,
            httpx.AsyncClient(base_url=two) as second,
        ):
            headers = await login(first, create_user(ctx.engine, Role.admin).email)
            code = currency_code()
            before = await second.get("/api/reference/currencies")  # the second keeps a copy
            assert code not in {item["code"] for item in before.json()}

            await created(first, headers, "currencies", {"code": code, "name": "Coin"})
            after = await second.get("/api/reference/currencies")
            assert {"code": code, "name": "Coin", "minor_units": 2} in after.json()
            assert after.headers["ETag"] != before.headers["ETag"]
            assert after.headers["Cache-Control"] == "public, no-cache"  # clients ask again

            renamed = {"name": "Renamed coin"}
            await first.patch(f"{ADMIN}/currencies/{code}", json=renamed, headers=headers)
            assert (await _codes(second, "currencies"))[code] == "Renamed coin"
            await first.patch(
                f"{ADMIN}/currencies/{code}", json={"is_active": False}, headers=headers
            )
            assert code not in await _codes(second, "currencies")

            bank = lower_code("zq")
            assert bank not in await _codes(second, "banks")
            await created(first, headers, "banks", {"code": bank, "name": "Bank"})
            assert bank in await _codes(second, "banks")
            await first.put(f"{ADMIN}/banks/{bank}/payment-methods/sbp", headers=headers)
            offers = (await second.get("/api/reference/bank-payment-methods")).json()
            assert {"bank_code": bank, "payment_method": "sbp"} in offers


@contextlib.asynccontextmanager
async def app_without_redis(ctx: ServiceContext) -> AsyncIterator[httpx.AsyncClient]:
    settings = ctx.settings.model_copy(update={"redis_url": None})
    own = ServiceContext.build(settings)
    assert isinstance(own.cache, MemoryCache)
    app: FastAPI = create_app(settings, context=own)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                yield c
    finally:
        await own.close()


@pytest.mark.parametrize("kind", ["currencies", "payment-methods"])
async def test_without_redis_the_process_sees_its_own_change_at_once(
    ctx: ServiceContext, kind: str
) -> None:
    async with app_without_redis(ctx) as api:
        headers = await login(api, create_user(ctx.engine, Role.admin).email)
        code = currency_code() if kind == "currencies" else lower_code("m")
        before = await api.get(f"/api/reference/{kind}")
        assert code not in {item["code"] for item in before.json()}
        await created(api, headers, kind, {"code": code, "name": "New"})
        after = await api.get(
            f"/api/reference/{kind}", headers={"If-None-Match": before.headers["ETag"]}
        )
        assert after.status_code == 200 and code in {item["code"] for item in after.json()}
        gone = await api.delete(f"{ADMIN}/{kind}/{code}", headers=headers)
        assert gone.status_code == 204
        final = await api.get(f"/api/reference/{kind}")
        assert final.json() == before.json() and final.headers["ETag"] == before.headers["ETag"]


async def test_with_redis_down_a_process_answers_from_its_copy() -> None:
    unreachable = RedisCache(f"redis://127.0.0.1:{free_port()}/0", "down:")
    cache = VersionedCache(unreachable, "reference")
    loads: list[str] = []

    async def load() -> str:
        loads.append("db")
        return f"value {len(loads)}"

    try:
        assert await cache.get("currencies", 60, load) == "value 1"
        assert await cache.get("currencies", 60, load) == "value 1"  # its copy, no error
        await cache.bump()  # the change is committed; this process forgets its copy
        assert await cache.get("currencies", 0, load) == "value 2"  # a copy that ages at once
        assert await cache.get("currencies", 60, load) == "value 3"  # aged out: read again
    finally:
        await unreachable.close()


def test_every_column_naming_a_reference_row_counts_as_a_use() -> None:
    """A table added later that points at a currency, bank or method is listed in
    `reference_rules`, so deleting a code it names is refused (not a foreign-key 500)."""
    listed = {use for kind in KINDS for use in kind.uses}
    tables = {kind.model.__tablename__: kind for kind in KINDS}
    missing = [
        f"{table.name}.{fk.parent.name}"
        for table in SQLModel.metadata.sorted_tables
        if table.name != "bank_payment_methods"  # the offers go with their bank or method
        for fk in table.foreign_keys
        if fk.column.table.name in tables and f"{table.name}.{fk.parent.name}" not in listed
    ]
    assert missing == []
