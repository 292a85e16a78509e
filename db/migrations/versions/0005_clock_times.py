"""domain times from the writer's clock, not the server's now()

Revision ID: 0005_clock_times
Revises: 0004

Audit events, strategy state, task runs, positions, fund transfers and the paper network's
wallets, ledger and bridge switches were dated by `server_default now()`: under a simulated
clock (the demo, a backtest) the events table mixed wall and simulated time. The writers now
give every one of these times from the deployment's clock; the server defaults go, so a row
written without one fails loudly instead of getting wall time. No data changes.
Create Date: 2026-12-02 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_clock_times"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CLOCK_COLUMNS = (
    ("events", "occurred_at"),
    ("strategy_state", "last_updated"),
    ("task_runs", "started_at"),
    ("strategy_positions", "created_at"),
    ("strategy_positions", "updated_at"),
    ("fund_transfers", "created_at"),
    ("fund_transfers", "updated_at"),
    ("paper_wallets", "created_at"),
    ("paper_wallet_ledger", "created_at"),
    ("paper_bridge_protocols", "updated_at"),
)


def upgrade() -> None:
    for table, column in CLOCK_COLUMNS:
        op.alter_column(table, column, server_default=None)


def downgrade() -> None:
    for table, column in CLOCK_COLUMNS:
        op.alter_column(table, column, server_default=sa.text("now()"))
