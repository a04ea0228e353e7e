"""Connect: a pool of sandbox identities held exclusively; warnings on bank connections;
sync run statuses fit `reconsent_required` (16 characters were too few to close such a run).

Users used to be mapped to `teamNNN-{count % 10 + 1}` at registration, so the eleventh user
shared the first one's identity and read that user's bank data. Identities now live in
`sandbox_identities`, each held by at most one user (assigned on first bank connection).
Existing mappings move there: the first user of an identity keeps it; later users lose it,
and the bank data stored for them (which was another user's) is deleted.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 22:10:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Child tables first: everything synced or derived from one user's bank identity.
USER_BANK_DATA = (
    "DELETE FROM balance_snapshots WHERE account_id IN "
    "(SELECT id FROM bank_accounts WHERE user_id = :user)",
    "DELETE FROM bank_transactions WHERE user_id = :user",
    "DELETE FROM product_agreements WHERE user_id = :user",
    "DELETE FROM bank_accounts WHERE user_id = :user",
    "DELETE FROM sync_runs WHERE user_id = :user",
    "DELETE FROM consent_events WHERE consent_row_id IN "
    "(SELECT id FROM consents WHERE user_id = :user)",
    "DELETE FROM consents WHERE user_id = :user",
    "DELETE FROM bank_connections WHERE user_id = :user",
    "DELETE FROM analytics_snapshots WHERE user_id = :user",
    "DELETE FROM raw_api_logs WHERE user_id = :user",
)


def _move_mappings() -> None:
    conn = op.get_bind()
    rows = conn.execute(
        sa.text(
            "SELECT id, external_client_id FROM users WHERE external_client_id IS NOT NULL "
            "ORDER BY created_at, id"
        )
    ).all()
    held: set[str] = set()
    now = datetime.now(UTC).replace(tzinfo=None) if conn.dialect.name == "sqlite" else None
    for user_id, identity in rows:
        if identity in held:
            for statement in USER_BANK_DATA:
                conn.execute(sa.text(statement), {"user": user_id})
            continue
        held.add(identity)
        conn.execute(
            sa.text(
                "INSERT INTO sandbox_identities (external_client_id, team, user_id, "
                "assigned_at, created_at) VALUES (:identity, :team, :user, :now, :now)"
            ),
            {
                "identity": identity,
                "team": identity.rsplit("-", 1)[0],
                "user": user_id,
                "now": now or datetime.now(UTC),
            },
        )


def upgrade() -> None:
    op.create_table(
        "sandbox_identities",
        sa.Column(
            "external_client_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False
        ),
        sa.Column("team", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_sandbox_identities_user_id_users")
        ),
        sa.PrimaryKeyConstraint("external_client_id", name=op.f("pk_sandbox_identities")),
        sa.UniqueConstraint("user_id", name=op.f("uq_sandbox_identities_user_id")),
    )
    with op.batch_alter_table("sandbox_identities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sandbox_identities_team"), ["team"], unique=False)
    _move_mappings()
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("external_client_id")
    with op.batch_alter_table("bank_connections", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("warnings", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.alter_column(
            "status",
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=16),
            type_=sqlmodel.sql.sqltypes.AutoString(length=32),
            existing_nullable=False,
        )


def downgrade() -> None:
    op.execute("UPDATE sync_runs SET status = 'reconsent' WHERE status = 'reconsent_required'")
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.alter_column(
            "status",
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=32),
            type_=sqlmodel.sql.sqltypes.AutoString(length=16),
            existing_nullable=False,
        )
    with op.batch_alter_table("bank_connections", schema=None) as batch_op:
        batch_op.drop_column("warnings")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "external_client_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True
            )
        )
    op.execute(
        "UPDATE users SET external_client_id = (SELECT external_client_id FROM "
        "sandbox_identities WHERE sandbox_identities.user_id = users.id)"
    )
    with op.batch_alter_table("sandbox_identities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sandbox_identities_team"))
    op.drop_table("sandbox_identities")
