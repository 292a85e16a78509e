"""orders: the venue's client order id beside ours

Revision ID: 0008_venue_client_ids
Revises: 0007_position_operation

Venues take client order ids in their own form (Hyperliquid 128-bit hex, dYdX/Backpack/GRVT/
Lighter integers, Aster at most 36 characters); the ccxt adapter derives it from ours
deterministically. It is stored beside ours, unique per venue, so the venue's order can be
found by it and two intents can never share one. Existing rows: the paper venues use our id
as it is; Hyperliquid's is the first 32 hex digits of sha256 of ours (what was sent).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_venue_client_ids"
down_revision: str | None = "0007_position_operation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("orders", sa.Column("venue_client_order_id", sa.String(80), nullable=True))
    op.execute(
        "UPDATE orders SET venue_client_order_id = CASE WHEN venue = 'hyperliquid' "
        "THEN '0x' || substr(encode(sha256(convert_to(client_order_id, 'UTF8')), 'hex'), 1, 32) "
        "ELSE client_order_id END"
    )
    op.alter_column("orders", "venue_client_order_id", nullable=False)
    op.create_unique_constraint(
        "uq_orders_venue_venue_client_order_id", "orders", ["venue", "venue_client_order_id"]
    )


def downgrade() -> None:
    op.drop_constraint("uq_orders_venue_venue_client_order_id", "orders", type_="unique")
    op.drop_column("orders", "venue_client_order_id")
