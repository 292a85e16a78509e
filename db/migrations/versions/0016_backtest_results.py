"""backtest sweep results: one row per (sweep, combination)

Revision ID: 0016_backtest_results
Revises: 0011_dashboard_indexes

A sweep fans its parameter combinations out as Celery tasks; each stores its run's report
piece here once, keyed by sweep id and combination, so a worker dying mid-sweep loses
nothing (the redelivered task finds its row or writes it) and nothing is stored twice.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0016_backtest_results"
down_revision: str | None = "0015_dashperf_pnl_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "backtest_results",
        sa.Column("sweep_id", sa.String(length=64), nullable=False),
        sa.Column("combination", sa.Text(), nullable=False),
        sa.Column("piece", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("worker", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sweep_id", "combination", name=op.f("pk_backtest_results")),
    )


def downgrade() -> None:
    op.drop_table("backtest_results")
