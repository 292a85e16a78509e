"""indexes for the dashboard's PnL curve: the unrealised PnL monitoring wrote, and the first
funding payment

Revision ID: 0015_dashperf_pnl_indexes
Revises: 0011_dashboard_indexes

The curve reads, per position and time bucket, the newest monitor update that carries an
unrealised PnL (and the close that zeroes it). A partial index holding exactly those events'
(entity, time, id) lets that grouped read be an index-only scan instead of a scan of every
event's JSON payload; the payload is then read for one event per position and bucket.
`funding_time` gives the curve's start without a scan of every payment. Measured in
bench/bench_dashboard.py.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_dashperf_pnl_indexes"
down_revision: str | None = "0014_opscore_pending_phases"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The same condition as the curve's query (dashboard/readmodel/pnl.py), so the planner uses it.
UNREALISED_EVENTS = (
    "(kind = 'position.updated' AND payload -> 'changes' ? 'unrealized_pnl_usd')"
    " OR kind = 'position.closed'"
)


def upgrade() -> None:
    op.create_index(
        "ix_events_unrealised_pnl",
        "events",
        ["entity_id", "occurred_at", "id"],
        unique=False,
        postgresql_where=sa.text(UNREALISED_EVENTS),
    )
    op.create_index("ix_funding_payments_funding_time", "funding_payments", ["funding_time"])


def downgrade() -> None:
    op.drop_index("ix_funding_payments_funding_time", table_name="funding_payments")
    op.drop_index("ix_events_unrealised_pnl", table_name="events")
