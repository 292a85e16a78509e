"""an index for the dashboard's reads of the audit log by kind

Revision ID: 0011_dashboard_indexes
Revises: 0010_dashboard_users

The dashboard reads events by kind (settlements and take-profits for price PnL, monitor
updates for the unrealised PnL curve, the latest open refusals): `(kind, id)` serves each
as an index range instead of a scan of the whole log (measured in bench/bench_dashboard.py).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011_dashboard_indexes"
down_revision: str | None = "0010_dashboard_users"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_events_kind_id", "events", ["kind", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_events_kind_id", table_name="events")
