"""halts: circuit-breaker trips and manual halts

Revision ID: 0012_opsguard_halts
Revises: 0011_dashboard_indexes

One row per halt of a scope (a strategy's name or `*` for all); active while `lifted_at` is
null, at most one active per scope (partial unique index), so concurrent trips keep the first.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_opsguard_halts"
down_revision: str | None = "0011_dashboard_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "halts",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("scope", sa.String(length=50), nullable=False),
        sa.Column("breaker", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("tripped_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lifted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lifted_by", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_halts")),
    )
    op.create_index(
        "uq_halts_active_scope",
        "halts",
        ["scope"],
        unique=True,
        postgresql_where=sa.text("lifted_at IS NULL"),
    )
    op.create_index("ix_halts_tripped_at", "halts", ["tripped_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_halts_tripped_at", table_name="halts")
    op.drop_index("uq_halts_active_scope", table_name="halts")
    op.drop_table("halts")
