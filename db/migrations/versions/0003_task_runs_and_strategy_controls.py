"""task runs and strategy controls

Revision ID: 0003
Revises: 0002

Task runs make overlapping phases and skipped ticks visible; controls hold operator
switches (pause/resume) outside any strategy's own state.
Create Date: 2026-11-24 06:55:23.474279
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "strategy_controls",
        sa.Column("strategy_name", sa.String(length=50), nullable=False),
        sa.Column("paused", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("strategy_name", name=op.f("pk_strategy_controls")),
    )
    op.create_table(
        "task_runs",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("task_id", sa.String(length=64), nullable=True),
        sa.Column("task_name", sa.String(length=64), nullable=False),
        sa.Column("strategy_name", sa.String(length=50), nullable=True),
        sa.Column("phase", sa.String(length=24), nullable=True),
        sa.Column("trigger", sa.String(length=16), server_default="beat", nullable=False),
        sa.Column("status", sa.String(length=16), server_default="running", nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("worker", sa.String(length=128), nullable=True),
        sa.Column(
            "result",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "started_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('running', 'succeeded', 'failed', 'skipped')",
            name=op.f("ck_task_runs_status"),
        ),
        sa.CheckConstraint(
            "trigger IN ('beat', 'manual', 'startup')", name=op.f("ck_task_runs_trigger")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_runs")),
    )
    op.create_index(
        "ix_task_runs_strategy_started", "task_runs", ["strategy_name", "started_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_task_runs_strategy_started", table_name="task_runs")
    op.drop_table("task_runs")
    op.drop_table("strategy_controls")
