"""Lint every migration's PostgreSQL SQL with squawk: `python -m launcher.lint_migrations`
(part of `make lint`).

Each revision is rendered on its own (`alembic upgrade <prev>:<rev> --sql`, offline: no
database needed) into one file, so squawk names the migration a finding belongs to. Rules
excluded for all migrations are in `.squawk.toml`, each with its reason; the exceptions of
one migration are `EXCEPTIONS` below, each with why that migration is safe. A migration
after `BASELINE` gets none: it must pass as it is.
"""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from core.migrate import alembic_config
from core.settings import ROOT_DIR

# The last migration applied before the first production deploy: every table it touched
# was empty or demo-sized then, and an applied migration never runs on a live database
# again, so its findings are recorded here rather than rewritten.
BASELINE = "0024"
_SMALL = "ran before the first production deploy, on empty or demo-sized tables"
EXCEPTIONS: dict[str, dict[str, str]] = {
    "0003": {"prefer-identity": "serial keys of append-only log tables created here"},
    "0009": {
        "ban-drop-constraint": "replaced by a partial unique index in the same migration",
        "require-concurrent-index-creation": _SMALL,
    },
    "0010": {
        "require-concurrent-index-creation": _SMALL,
        "require-concurrent-index-deletion": _SMALL,
        "adding-not-nullable-field": "order_events.seq backfilled in the same migration; " + _SMALL,
        "ban-drop-constraint": "a constraint replaced in the same migration",
        "constraint-missing-not-valid": _SMALL,
        "disallowed-unique-constraint": _SMALL,
    },
    "0011": {
        "constraint-missing-not-valid": _SMALL,
        "disallowed-unique-constraint": _SMALL,
        "adding-foreign-key-constraint": _SMALL,
    },
    "0013": {
        "require-concurrent-index-creation": "an index recreated with a wider predicate; " + _SMALL,
        "require-concurrent-index-deletion": _SMALL,
    },
    "0015": {"require-concurrent-index-creation": _SMALL},
    "0016": {
        "changing-column-type": "currency codes widened to 8 characters; " + _SMALL,
        "constraint-missing-not-valid": _SMALL,
        "adding-foreign-key-constraint": _SMALL,
        "require-concurrent-index-creation": _SMALL,
        "require-concurrent-index-deletion": _SMALL,
    },
    "0017": {
        "ban-drop-not-null": "order_id became optional (withdrawals); old readers never wrote NULL",
        "require-concurrent-index-creation": _SMALL,
        "constraint-missing-not-valid": _SMALL,
        "adding-foreign-key-constraint": _SMALL,
        "disallowed-unique-constraint": _SMALL,
    },
    "0018": {"constraint-missing-not-valid": _SMALL},
    "0019": {
        "require-concurrent-index-creation": _SMALL,
        "constraint-missing-not-valid": _SMALL,
        "adding-foreign-key-constraint": _SMALL,
    },
    "0023": {"require-concurrent-index-creation": _SMALL},
}
# Data migrations that read rows to decide what to write: offline rendering has no rows.
UNRENDERABLE = {
    "0006": "merges duplicate platform accounts it first reads (no DDL squawk lints)",
    "0007": "moves sandbox identities it first reads (no DDL squawk lints)",
}
_OFFLINE_URL = "postgresql+psycopg://offline/render"


def _json_literal(self: sa.JSON, dialect: Any) -> Callable[[Any], str]:
    """Offline SQL needs literals; SQLAlchemy has none for JSON (a seed row's `[]`)."""
    return lambda value: "'" + json.dumps(value).replace("'", "''") + "'"


def render(revision: str, previous: str | None) -> str:
    """The SQL `alembic upgrade previous:revision --sql` prints for PostgreSQL."""
    config = alembic_config(_OFFLINE_URL)
    config.output_buffer = io.StringIO()
    command.upgrade(config, f"{previous}:{revision}" if previous else revision, sql=True)
    return str(config.output_buffer.getvalue())


def render_all(into: Path) -> list[Path]:
    """One file per revision, oldest first, each headed by its recorded exceptions."""
    sa.JSON.literal_processor = _json_literal  # type: ignore[method-assign,assignment]
    script = ScriptDirectory.from_config(alembic_config(_OFFLINE_URL))
    files = []
    for rev in reversed(list(script.walk_revisions())):
        if rev.revision in UNRENDERABLE:
            continue
        previous = rev.down_revision if isinstance(rev.down_revision, str) else None
        ignored = sorted(EXCEPTIONS.get(rev.revision, {}))
        head = f"-- squawk-ignore-file {', '.join(ignored)}\n" if ignored else ""
        path = into / f"{rev.revision}.sql"
        path.write_text(head + render(rev.revision, previous))
        files.append(path)
    return files


def squawk(files: list[Path]) -> subprocess.CompletedProcess[str]:
    binary = Path(sys.executable).with_name("squawk")
    config = ROOT_DIR / ".squawk.toml"
    return subprocess.run(  # noqa: S603 - our own venv's binary, our own files
        [str(binary), "--config", str(config), "--reporter", "gcc", *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )


def main() -> int:
    late = [rev for rev in EXCEPTIONS if rev > BASELINE]
    if late:
        print(f"migrations after {BASELINE} may not have exceptions: {late}")
        return 1
    logging.disable(logging.INFO)
    with tempfile.TemporaryDirectory() as folder:
        files = render_all(Path(folder))
        result = squawk(files)
    print(result.stdout.replace(folder + "/", "migration "), end="")
    print(result.stderr, end="", file=sys.stderr)
    print(f"squawk: {len(files)} migrations linted, exit {result.returncode}")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
