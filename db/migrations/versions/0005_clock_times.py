"""domain times come from the writer's clock: no server default now()

Revision ID: 0005_clock_times
Revises: 0004

`events.occurred_at`, `strategy_state.last_updated`, `task_runs.started_at` and
`strategy_positions.created_at/updated_at` are written by the code that has the deployment's
clock (simulated in a backtest or the demo). Without a default, a writer that forgot the time
fails loudly instead of getting the server's.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_clock_times"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = (
    ("events", "occurred_at"),
    ("strategy_state", "last_updated"),
    ("task_runs", "started_at"),
    ("strategy_positions", "created_at"),
    ("strategy_positions", "updated_at"),
)


def upgrade() -> None:
    for table, column in _COLUMNS:
        op.alter_column(table, column, server_default=None)


def downgrade() -> None:
    for table, column in _COLUMNS:
        op.alter_column(table, column, server_default=sa.text("now()"))
