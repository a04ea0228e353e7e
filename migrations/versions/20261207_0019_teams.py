"""Teams: a team lead's team of traders (one team per lead, one team per trader), the lead's
share of the traders' rewards, the lead's traffic switch on each trader, and the lead and
share fixed on each order.

Existing traders are in no team with traffic on, and existing orders have no lead, so every
row keeps its meaning. The `teamlead` role and ledger account kind are plain string values.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 14:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.base

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "teams",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("lead_user_id", sa.Uuid(), nullable=False),
        sa.Column("share_bps", sa.Integer(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "share_bps >= 0 AND share_bps <= 10000", name=op.f("ck_teams_share_bps")
        ),
        sa.ForeignKeyConstraint(
            ["lead_user_id"], ["users.id"], name=op.f("fk_teams_lead_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams")),
        sa.UniqueConstraint("lead_user_id", name=op.f("uq_teams_lead_user_id")),
        sa.UniqueConstraint("name", name=op.f("uq_teams_name")),
    )
    with op.batch_alter_table("traders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("team_id", sa.Uuid(), nullable=True))
        batch_op.add_column(
            sa.Column("traffic_enabled", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(
            sa.Column("traffic_changed_at", models.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_traders_team_id"), ["team_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_traders_team_id_teams"), "teams", ["team_id"], ["id"]
        )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("teamlead_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("teamlead_share_bps", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("teamlead_share_minor", sa.BigInteger(), nullable=True))
        batch_op.create_index(batch_op.f("ix_orders_teamlead_id"), ["teamlead_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_orders_teamlead_id_users"), "users", ["teamlead_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_orders_teamlead_id_users"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_orders_teamlead_id"))
        batch_op.drop_column("teamlead_share_minor")
        batch_op.drop_column("teamlead_share_bps")
        batch_op.drop_column("teamlead_id")
    with op.batch_alter_table("traders", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_traders_team_id_teams"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_traders_team_id"))
        batch_op.drop_column("traffic_changed_at")
        batch_op.drop_column("traffic_enabled")
        batch_op.drop_column("team_id")
    op.drop_table("teams")
