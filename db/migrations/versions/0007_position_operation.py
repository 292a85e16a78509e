"""typed fields for unfinished positions: the operation in progress and the last failed close

Revision ID: 0007_position_operation
Revises: 0006_funding_history

`operation` (what an OPENING / CLOSING / NEEDS_RECONCILE position is in the middle of),
`operation_reason` (why it was started: a resumed close keeps its reason) and
`close_failed_at` (when a close last failed and the legs were rehedged). Recovery and the
close-retry wait read these instead of the audit log.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_position_operation"
down_revision: str | None = "0006_funding_history"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPERATIONS = "'open', 'close', 'reduce', 'reconcile'"


def upgrade() -> None:
    op.add_column("strategy_positions", sa.Column("operation", sa.String(length=20)))
    op.add_column("strategy_positions", sa.Column("operation_reason", sa.Text()))
    op.add_column("strategy_positions", sa.Column("close_failed_at", sa.DateTime(timezone=True)))
    # Autogenerate does not see CHECK constraints added to an existing table.
    op.create_check_constraint(
        op.f("ck_strategy_positions_operation"),
        "strategy_positions",
        f"operation IS NULL OR operation IN ({_OPERATIONS})",
    )
    # Positions left unfinished by the previous version carry on as it would have: their
    # operation and its reason are read back, once, from the status changes in the audit
    # log (a NEEDS_RECONCILE entered from CLOSING, or with a "close:" reason, was closing).
    for statement in _BACKFILL:
        op.execute(statement)


_BACKFILL = (
    """UPDATE strategy_positions SET operation = CASE status
        WHEN 'opening' THEN 'open' WHEN 'closing' THEN 'close' ELSE 'reconcile' END
    WHERE status IN ('opening', 'closing', 'needs_reconcile')""",
    # The last NEEDS_RECONCILE entry came from CLOSING (or with a "close:" reason).
    """UPDATE strategy_positions p SET operation = 'close'
    WHERE p.status = 'needs_reconcile' AND coalesce((
        SELECT e.payload ->> 'from' = 'closing'
            OR coalesce(e.payload ->> 'reason', '') LIKE 'close:%'
        FROM events e
        WHERE e.entity_type = 'position' AND e.entity_id = p.id::text
            AND e.payload ->> 'to' = 'needs_reconcile'
        ORDER BY e.id DESC LIMIT 1), false)""",
    # The reason given when it last entered CLOSING (a close) or NEEDS_RECONCILE (otherwise).
    """UPDATE strategy_positions p SET operation_reason = (
        SELECT e.payload ->> 'reason' FROM events e
        WHERE e.entity_type = 'position' AND e.entity_id = p.id::text
            AND e.payload ->> 'to' = CASE p.operation
                WHEN 'close' THEN 'closing' ELSE 'needs_reconcile' END
        ORDER BY e.id DESC LIMIT 1)
    WHERE p.operation IN ('close', 'reconcile')""",
)


def downgrade() -> None:
    op.drop_constraint(op.f("ck_strategy_positions_operation"), "strategy_positions", type_="check")
    op.drop_column("strategy_positions", "close_failed_at")
    op.drop_column("strategy_positions", "operation_reason")
    op.drop_column("strategy_positions", "operation")
