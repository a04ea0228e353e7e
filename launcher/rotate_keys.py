"""`python -m launcher.rotate_keys`: re-encrypt every secret at rest under the newest key.

Fernet key rotation, step by step (docs/operations.md): put the new key first in
`FERNET_KEY` ("new,old") and restart API and workers (they now encrypt with the new key and
still read the old); run this command (every `*_encrypted` column of every table, in
batches, idempotent); then drop the old key from `FERNET_KEY`.
"""

from __future__ import annotations

import sys

from sqlalchemy import Table, select, update
from sqlalchemy.engine import Engine

import models  # noqa: F401 - registers every table
from core.db import build_engine
from core.security import SecretBox
from core.settings import get_settings
from models.base import metadata

BATCH = 500


def encrypted_columns() -> list[tuple[Table, str]]:
    return [
        (table, column.name)
        for table in metadata.sorted_tables
        for column in table.columns
        if column.name.endswith("_encrypted")
    ]


def rotate_table(engine: Engine, box: SecretBox, table: Table, column: str) -> int:
    """Re-encrypt one column; returns how many values it rewrote."""
    key = next(iter(table.primary_key.columns))
    done, after = 0, None
    while True:
        query = select(key, table.c[column]).where(table.c[column].is_not(None))
        if after is not None:
            query = query.where(key > after)
        with engine.begin() as conn:
            rows = conn.execute(query.order_by(key).limit(BATCH)).all()
            for row_id, value in rows:
                conn.execute(update(table).where(key == row_id).values({column: box.rotate(value)}))
            done += len(rows)
        if len(rows) < BATCH:
            return done
        after = rows[-1][0]


def rotate_all(engine: Engine, box: SecretBox) -> dict[str, int]:
    return {
        f"{table.name}.{column}": rotate_table(engine, box, table, column)
        for table, column in encrypted_columns()
    }


def main() -> int:
    settings = get_settings()
    if len(settings.fernet_keys) < 2:
        print("FERNET_KEY holds one key: put the new key first (new,old), then run this.")
        return 2
    engine = build_engine(settings)
    for name, count in rotate_all(engine, SecretBox(settings.fernet_keys)).items():
        print(f"{name}: {count} re-encrypted")
    return 0


if __name__ == "__main__":
    sys.exit(main())
