"""Expand/contract (docs/operations.md): during a deploy the previous release's code runs
against the schema the deploy migrated to. Checked on PostgreSQL and SQLite (scratch
databases of each kind; the hot path on the suite's database of each pass):

- every migration after the last release's head only expands the schema, judged on the
  schema itself before and after it (SQLAlchemy `inspect`), but for what a contract
  migration declares it removes (`CONTRACTS`), never something the release still uses;
- the previous release's hot-path SQL (`release_sql`: create, read, settle) still runs
  against the head schema;
- the frozen SQL is the release's: while no migration followed it, its column lists are
  today's models'.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import httpx
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Uuid, bindparam, create_engine, inspect, text

from core.context import ServiceContext
from core.migrate import alembic_config, upgrade
from models import metadata
from models.base import UTCDateTime, utcnow
from tests.conftest import scratch_database
from tests.operations.release_sql import COLUMNS, CONTRACTS, HOT_PATH, LAST_RELEASE
from tests.operations.test_worker_drills import reached, until
from tests.processing import conftest as processing
from tests.processing.payout_kit import created

# Migrations before the policy was written down that already kept it: checked too, so the
# check is seen at work on real migrations and not only on those still to come.
CHECKED_SINCE = "0014"
# (type, nullable, has a server default) per column, per table.
Schema = dict[str, dict[str, tuple[str, bool, bool]]]
LONGER = re.compile(r"(?:VARCHAR|CHAR)\((\d+)\)")


@pytest.fixture(params=["postgresql", "sqlite"])
def scratch_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each kind, migrated by the test (both kinds in one pass: it
    needs none of the suite's services)."""
    with scratch_database(request.param, tmp_path, "jivapay_expand") as url:
        yield url


def schema(url: str) -> Schema:
    engine = create_engine(url)
    try:
        inspector = inspect(engine)
        return {
            table: {
                c["name"]: (str(c["type"]), bool(c["nullable"]), c.get("default") is not None)
                for c in inspector.get_columns(table)
            }
            for table in inspector.get_table_names()
            if table != "alembic_version"
        }
    finally:
        engine.dispose()


def narrowed(before: str, after: str) -> bool:
    """A type change a value the previous release writes may not fit: anything but the same
    type, a longer string, or a string made TEXT."""
    if before == after:
        return False
    old, new = LONGER.fullmatch(before), LONGER.fullmatch(after)
    if old and after == "TEXT":
        return False
    return not (old and new and int(new[1]) >= int(old[1]))


def breaks(before: Schema, after: Schema) -> list[str]:
    """What the previous release's code would trip on, going from `before` to `after`."""
    problems = []
    for table, columns in before.items():
        if table not in after:
            problems.append(f"table {table} dropped or renamed")
            continue
        for name, (kind, nullable, _) in columns.items():
            if (now := after[table].get(name)) is None:
                problems.append(f"{table}.{name} dropped or renamed")
            elif narrowed(kind, now[0]):
                problems.append(f"{table}.{name} narrowed from {kind} to {now[0]}")
            elif nullable and not now[1]:
                problems.append(f"{table}.{name} made NOT NULL")
        for name, (_, nullable, has_default) in after[table].items():
            if name not in columns and not nullable and not has_default:
                problems.append(f"{table}.{name} added NOT NULL without a default")
    return problems


def revisions() -> list[str]:
    """Every migration, oldest first."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def test_migrations_since_the_last_release_only_expand(scratch_url: str) -> None:
    every = revisions()
    first = min(every.index(LAST_RELEASE), every.index(CHECKED_SINCE))
    upgrade(scratch_url, every[first])
    before = schema(scratch_url)
    for revision in every[first + 1 :]:
        upgrade(scratch_url, revision)
        after = schema(scratch_url)
        allowed = CONTRACTS.get(revision, set())
        assert set(breaks(before, after)) == allowed, f"migration {revision} does not only expand"
        before = after


def test_a_contract_removes_nothing_the_last_release_uses() -> None:
    used = set(COLUMNS) | {f"{table}.{c}" for table, columns in COLUMNS.items() for c in columns}
    for revision, removed in CONTRACTS.items():
        # "orders.x dropped or renamed" names orders.x; "table orders dropped…" names orders.
        named = {words[1] if words[0] == "table" else words[0] for words in map(str.split, removed)}
        assert not named & used, (revision, named & used)


def test_the_check_sees_a_contracting_change(scratch_url: str) -> None:
    upgrade(scratch_url)
    before = schema(scratch_url)
    engine = create_engine(scratch_url)
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE order_events RENAME COLUMN reason TO why"))
        conn.execute(text("DROP TABLE pending_actions"))
        # Additive: a new column with a default.
        conn.execute(text("ALTER TABLE orders ADD COLUMN risk INTEGER NOT NULL DEFAULT 0"))
    engine.dispose()
    assert sorted(breaks(before, schema(scratch_url))) == [
        "order_events.reason dropped or renamed",
        "table pending_actions dropped or renamed",
    ]
    assert narrowed("VARCHAR(64)", "VARCHAR(32)") and narrowed("INTEGER", "SMALLINT")
    assert not narrowed("VARCHAR(64)", "VARCHAR(128)") and not narrowed("VARCHAR(64)", "TEXT")


def test_the_frozen_sql_is_the_last_releases() -> None:
    """At the release the frozen lists are its models' columns; after it, today's models
    still hold every one of them (migrations since only expand)."""
    today = {table: tuple(c.name for c in metadata.tables[table].columns) for table in COLUMNS}
    if revisions()[-1] == LAST_RELEASE:
        assert today == COLUMNS
    for table, frozen in COLUMNS.items():
        assert set(frozen) <= set(today[table]), table


async def test_the_last_releases_hot_path_runs_on_the_head_schema(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None
) -> None:
    source = await settled_payin(api, ctx)
    with ctx.engine.connect() as conn:
        params = hot_path_params(conn, source)
        for what, table, sql in HOT_PATH:
            names = set(re.findall(r"(?<!:):(\w+)", sql))
            statement = text(sql).bindparams(
                *(bindparam(n, type_=Uuid()) for n in names & UUID_PARAMS),
                *(bindparam(n, type_=UTCDateTime()) for n in names & {"now"}),
            )
            values = {**params, "from_row": params[f"from_{table}"]} if table else params
            used = {name: values[name] for name in names}
            result = conn.execute(statement, used)
            if sql.startswith("SELECT"):
                assert result.fetchall(), what
            else:
                assert result.rowcount == 1, what
        conn.rollback()


async def settled_payin(api: httpx.AsyncClient, ctx: ServiceContext) -> str:
    """A pay-in created, paid and settled by today's code: its rows are copied."""
    currency = processing.new_currency(ctx)
    store = processing.make_store(ctx, currency)
    trader = await processing.make_trader(api, ctx, currency)
    body = processing.payin_body(currency)
    order_id = (await created(api, "/api/gateway/payins", body, store.headers))["id"]
    await api.post(f"/api/gateway/payins/{order_id}/paid", headers=store.headers)
    await api.post(f"/api/trader/orders/{order_id}/confirm", headers=trader.headers)
    await until(partial(reached, ctx, order_id, "completed"), 60)
    return str(order_id)


UUID_PARAMS = {"id", "from_row", "event_id", "hold_id", "posting_id", "entry_id"}
UUID_PARAMS |= {"store_id", "account_id"}


def hot_path_params(conn: Connection, order_id: str) -> dict[str, object]:
    """New ids for every row the hot path writes, and the settled order's rows to copy."""
    oid = uuid.UUID(order_id)
    of_order = "SELECT {} FROM {} WHERE order_id = :of"
    store_id, kind, amount = conn.execute(
        text("SELECT store_id, kind, amount_minor FROM orders WHERE id = :of").bindparams(OF),
        {"of": oid},
    ).one()
    hold_id, account_id = first(conn, of_order.format("id, account_id", "ledger_holds"), oid)
    (posting_id,) = first(conn, of_order.format("id", "ledger_postings"), oid)
    (event_id,) = first(conn, of_order.format("id", "order_events"), oid)
    entry = "SELECT id FROM ledger_entries WHERE posting_id = :of"
    (entry_id,) = first(conn, entry, as_uuid(posting_id))
    return {
        "id": uuid.uuid4(), "event_id": uuid.uuid4(), "hold_id": uuid.uuid4(),
        "posting_id": uuid.uuid4(), "entry_id": uuid.uuid4(),
        "merchant_order_id": uuid.uuid4().hex, "idempotency_key": uuid.uuid4().hex,
        "posting_key": uuid.uuid4().hex, "store_id": as_uuid(store_id), "kind": kind,
        "amount": amount, "account_id": as_uuid(account_id),
        "created": "created", "completed": "completed", "pending": "pending",
        "posted": "posted", "now": utcnow(),
        "from_orders": oid, "from_order_events": as_uuid(event_id),
        "from_ledger_holds": as_uuid(hold_id), "from_ledger_postings": as_uuid(posting_id),
        "from_ledger_entries": as_uuid(entry_id),
    }  # fmt: skip


OF = bindparam("of", type_=Uuid())


def first(conn: Connection, sql: str, of: uuid.UUID) -> tuple[object, ...]:
    row = conn.execute(text(sql).bindparams(OF), {"of": of}).first()
    assert row is not None, sql
    return tuple(row)


def as_uuid(value: object) -> uuid.UUID:
    """A UUID as a raw query returns it: a UUID on PostgreSQL, 32 hex digits on SQLite."""
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
