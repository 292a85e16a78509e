"""pending_phases; task_runs may be deferred and fired by the watchdog

Revision ID: 0014_opscore_pending_phases
Revises: 0012_opsguard_halts

A phase that finds its strategy's lock taken is recorded in `pending_phases` (one row per
strategy, phase and arguments) and run by the lock holder before it lets go; its own run
row says `deferred`. The unhedged watchdog's runs have the trigger `watchdog`.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014_opscore_pending_phases"
down_revision: str | None = "0013_opsguard_breakers_alerts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_STATUSES = "status IN ('running', 'succeeded', 'failed', 'skipped')"
NEW_STATUSES = "status IN ('running', 'succeeded', 'failed', 'skipped', 'deferred')"
OLD_TRIGGERS = "trigger IN ('beat', 'manual', 'startup')"
NEW_TRIGGERS = "trigger IN ('beat', 'manual', 'startup', 'watchdog')"


def upgrade() -> None:
    op.create_table(
        "pending_phases",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("strategy_name", sa.String(length=50), nullable=False),
        sa.Column("phase", sa.String(length=24), nullable=False),
        sa.Column(
            "arguments",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("arguments_key", sa.Text(), server_default="{}", nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("task_name", sa.String(length=64), nullable=False),
        sa.Column("task_id", sa.String(length=64), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_phases")),
    )
    op.create_index(
        "uq_pending_phases_request",
        "pending_phases",
        ["strategy_name", "phase", "arguments_key"],
        unique=True,
    )
    _swap_checks(NEW_STATUSES, NEW_TRIGGERS)


def downgrade() -> None:
    op.execute("DELETE FROM task_runs WHERE status = 'deferred' OR trigger = 'watchdog'")
    _swap_checks(OLD_STATUSES, OLD_TRIGGERS)
    op.drop_index("uq_pending_phases_request", table_name="pending_phases")
    op.drop_table("pending_phases")


def _swap_checks(statuses: str, triggers: str) -> None:
    op.drop_constraint(op.f("ck_task_runs_status"), "task_runs", type_="check")
    op.create_check_constraint(op.f("ck_task_runs_status"), "task_runs", statuses)
    op.drop_constraint(op.f("ck_task_runs_trigger"), "task_runs", type_="check")
    op.create_check_constraint(op.f("ck_task_runs_trigger"), "task_runs", triggers)
