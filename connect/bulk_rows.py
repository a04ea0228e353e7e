"""Bulk statements of the transaction store and the categories, per dialect (PostgreSQL or
SQLite), in Core.

On PostgreSQL a batch travels as one array per column (`unnest`), so the statement's text
stays the same size whatever the batch: a multi-row VALUES list of a few hundred rows cost
more in the driver's query parsing than the insert itself. SQLite takes the plain bulk
insert. Both ignore rows whose key is already stored and report the ones they inserted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, String, Table, any_, bindparam, func, literal, select, update
from sqlalchemy import Enum as SAEnum
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import TypeEngine

from core.db import dialect_insert


def _is_postgresql(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def _item_type(table: Table, name: str) -> TypeEngine[Any]:
    # Enums are stored as plain strings (`models.base.enum_type`): sent as text.
    column_type = table.c[name].type
    return String() if isinstance(column_type, SAEnum) else column_type


def stored_versions(
    conn: Connection,
    table: Table,
    scope: dict[str, Any],
    key: str,
    values: Sequence[str],
    version: Sequence[str],
) -> dict[str, tuple[Any, ...]]:
    """`key` → the `version` columns, of the rows within `scope` whose key is in `values`."""
    if _is_postgresql(conn):
        wanted = any_(bindparam("keys", list(values), type_=ARRAY(_item_type(table, key))))
        match = table.c[key] == wanted
    else:
        match = table.c[key].in_(list(values))
    query = select(table.c[key], *(table.c[name] for name in version)).where(
        match, *(table.c[name] == value for name, value in scope.items())
    )
    return {row[0]: tuple(row[1:]) for row in conn.execute(query)}


def insert_missing(
    conn: Connection,
    table: Table,
    constants: dict[str, Any],
    rows: Sequence[dict[str, Any]],
    unique: Sequence[str],
) -> int:
    """Insert `rows` (each with `constants` too), skipping any whose `unique` columns are
    already stored; returns how many were inserted."""
    if not rows:
        return 0
    if not _is_postgresql(conn):
        plain = dialect_insert("sqlite", table).on_conflict_do_nothing(index_elements=list(unique))
        params = [{**row, **constants} for row in rows]
        return len(conn.execute(plain.returning(table.c[unique[0]]), params).all())
    varying = list(rows[0])
    columns = _unnested(table, rows, varying)
    columns += [
        literal(value, type_=table.c[name].type).label(name) for name, value in constants.items()
    ]
    statement = (
        dialect_insert("postgresql", table)
        .from_select([*varying, *constants], select(*columns))
        .on_conflict_do_nothing(index_elements=list(unique))
        .returning(table.c[unique[0]])
    )
    return len(conn.execute(statement).all())


def update_rows(conn: Connection, table: Table, key: str, rows: Sequence[dict[str, Any]]) -> None:
    """Set the columns of each row found by `key` (every dict holds `key` and the same
    columns): one UPDATE … FROM unnest on PostgreSQL, one statement run per row on SQLite."""
    if not rows:
        return
    names = [name for name in rows[0] if name != key]
    if not _is_postgresql(conn):
        by_row = (
            update(table)
            .where(table.c[key] == bindparam("row_key"))
            .values({name: bindparam(f"new_{name}") for name in names})
        )
        params = [{"row_key": row[key], **{f"new_{n}": row[n] for n in names}} for row in rows]
        conn.execute(by_row, params)
        return
    incoming = select(*_unnested(table, rows, [key, *names])).subquery("incoming")
    conn.execute(
        update(table)
        .where(table.c[key] == incoming.c[key])
        .values({name: incoming.c[name] for name in names})
    )


def _unnested(table: Table, rows: Sequence[dict[str, Any]], names: list[str]) -> list[Any]:
    """One `unnest(array)` column per name: the rows sent as one array per column."""
    return [
        func.unnest(
            bindparam(
                f"column_{name}",
                [row[name] for row in rows],
                type_=ARRAY(_item_type(table, name)),
            )
        ).label(name)
        for name in names
    ]
