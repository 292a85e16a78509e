"""breaker marks, venue health and alert deliveries

Revision ID: 0013_opsguard_breakers_alerts
Revises: 0012_opsguard_halts

What the circuit breakers remember between checks (PnL peak and day start per scope, the
last probe of each venue account) and every alert handed to the sink (deduplication and the
rate limit read it, so several workers never double-send).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_opsguard_breakers_alerts"
down_revision: str | None = "0012_opsguard_halts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "breaker_marks",
        sa.Column("scope", sa.String(length=50), nullable=False),
        sa.Column("peak_pnl_usd", sa.Numeric(38, 18), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("day_start_pnl_usd", sa.Numeric(38, 18), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scope", name=op.f("pk_breaker_marks")),
    )
    op.create_table(
        "venue_health",
        sa.Column("venue", sa.String(length=20), nullable=False),
        sa.Column("account", sa.String(length=40), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_ok_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("down_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("venue", "account", name=op.f("pk_venue_health")),
    )
    op.create_table(
        "alert_deliveries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("strategy_name", sa.String(length=50), nullable=True),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('sent', 'failed', 'suppressed')", name=op.f("ck_alert_deliveries_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_deliveries")),
    )
    op.create_index(
        "ix_alert_deliveries_key_at", "alert_deliveries", ["dedupe_key", "at"], unique=False
    )
    op.create_index(
        "ix_alert_deliveries_status_at", "alert_deliveries", ["status", "at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_alert_deliveries_status_at", table_name="alert_deliveries")
    op.drop_index("ix_alert_deliveries_key_at", table_name="alert_deliveries")
    op.drop_table("alert_deliveries")
    op.drop_table("venue_health")
    op.drop_table("breaker_marks")
