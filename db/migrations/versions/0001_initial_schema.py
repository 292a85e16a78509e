"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-24 06:32:45.574177

The tables of the seed (strategy_positions, fund_transfers, strategy_state) and what a
real system needs beside them: orders, funding_rates, funding_payments and the append-only
events audit log (a trigger refuses UPDATE and DELETE).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION events_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'events is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql
"""
APPEND_ONLY_TRIGGER = """
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
FOR EACH ROW EXECUTE FUNCTION events_append_only()
"""


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "occurred_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("strategy_name", sa.String(length=50), nullable=True),
        sa.Column("entity_type", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column(
            "payload",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    op.create_index("ix_events_entity", "events", ["entity_type", "entity_id"], unique=False)
    op.create_index(
        "ix_events_strategy_occurred", "events", ["strategy_name", "occurred_at"], unique=False
    )
    op.execute(APPEND_ONLY_FUNCTION)
    op.execute(APPEND_ONLY_TRIGGER)
    op.create_table(
        "fund_transfers",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("strategy_name", sa.String(length=50), nullable=True),
        sa.Column("from_dex", sa.String(length=20), nullable=False),
        sa.Column("to_dex", sa.String(length=20), nullable=False),
        sa.Column("asset", sa.String(length=16), server_default="USDC", nullable=False),
        sa.Column("amount_usd", sa.Numeric(precision=38, scale=18), nullable=False),
        sa.Column(
            "fee_usd",
            sa.Numeric(precision=38, scale=18),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column("received_usd", sa.Numeric(precision=38, scale=18), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("funds_location", sa.String(length=24), server_default="source", nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("from_chain", sa.String(length=32), nullable=True),
        sa.Column("to_chain", sa.String(length=32), nullable=True),
        sa.Column("bridge_protocol", sa.String(length=32), nullable=True),
        sa.Column("destination_address", sa.String(length=128), nullable=True),
        sa.Column("withdrawal_ref", sa.String(length=128), nullable=True),
        sa.Column("bridge_ref", sa.String(length=128), nullable=True),
        sa.Column("deposit_ref", sa.String(length=128), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_check_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint(
            "funds_location IN ('source', 'in_flight_withdrawal', 'wallet', 'in_flight_bridge', 'in_flight_deposit', 'destination', 'unknown')",
            name=op.f("ck_fund_transfers_funds_location"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'withdrawing', 'withdrawn', 'bridging', 'bridged', 'depositing', 'completed', 'failed', 'needs_reconcile', 'cancelled')",
            name=op.f("ck_fund_transfers_status"),
        ),
        sa.CheckConstraint("amount_usd > 0", name=op.f("ck_fund_transfers_amount_positive")),
        sa.CheckConstraint("fee_usd >= 0", name=op.f("ck_fund_transfers_fee_non_negative")),
        sa.CheckConstraint("from_dex <> to_dex", name=op.f("ck_fund_transfers_distinct_venues")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fund_transfers")),
    )
    op.create_index(
        "ix_fund_transfers_status_next_check",
        "fund_transfers",
        ["status", "next_check_at"],
        unique=False,
    )
    op.create_table(
        "funding_rates",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("venue", sa.String(length=20), nullable=False),
        sa.Column("symbol", sa.String(length=20), nullable=False),
        sa.Column("rate", sa.Numeric(precision=38, scale=18), nullable=False),
        sa.Column("interval_hours", sa.Numeric(precision=38, scale=18), nullable=False),
        sa.Column("next_funding_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("mark_price", sa.Numeric(precision=38, scale=18), nullable=True),
        sa.Column("open_interest_usd", sa.Numeric(precision=38, scale=18), nullable=True),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("interval_hours > 0", name=op.f("ck_funding_rates_interval_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_funding_rates")),
    )
    op.create_index(
        "ix_funding_rates_symbol_observed", "funding_rates", ["symbol", "observed_at"], unique=False
    )
    op.create_index(
        "uq_funding_rates_observation",
        "funding_rates",
        ["venue", "symbol", "observed_at"],
        unique=True,
    )
    op.create_table(
        "strategy_positions",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("strategy_name", sa.String(length=50), nullable=False),
        sa.Column("symbol", sa.String(length=20), nullable=False),
        sa.Column("long_dex", sa.String(length=20), nullable=True),
        sa.Column("short_dex", sa.String(length=20), nullable=True),
        sa.Column("size_usd", sa.Numeric(precision=38, scale=18), nullable=False),
        sa.Column(
            "long_qty",
            sa.Numeric(precision=38, scale=18),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column(
            "short_qty",
            sa.Numeric(precision=38, scale=18),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column("long_entry_price", sa.Numeric(precision=38, scale=18), nullable=True),
        sa.Column("short_entry_price", sa.Numeric(precision=38, scale=18), nullable=True),
        sa.Column("entry_divergence", sa.Numeric(precision=38, scale=18), nullable=True),
        sa.Column("current_divergence", sa.Numeric(precision=38, scale=18), nullable=True),
        sa.Column(
            "long_funding_usd",
            sa.Numeric(precision=38, scale=18),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column(
            "short_funding_usd",
            sa.Numeric(precision=38, scale=18),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column(
            "fees_usd",
            sa.Numeric(precision=38, scale=18),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column(
            "realized_pnl_usd",
            sa.Numeric(precision=38, scale=18),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column(
            "unrealized_pnl_usd",
            sa.Numeric(precision=38, scale=18),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("close_reason", sa.Text(), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_monitored_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint(
            "status IN ('opening', 'open', 'closing', 'closed', 'failed', 'needs_reconcile')",
            name=op.f("ck_strategy_positions_status"),
        ),
        sa.CheckConstraint(
            "long_dex IS NOT NULL OR short_dex IS NOT NULL",
            name=op.f("ck_strategy_positions_has_a_leg"),
        ),
        sa.CheckConstraint(
            "long_dex IS NULL OR short_dex IS NULL OR long_dex <> short_dex",
            name=op.f("ck_strategy_positions_distinct_legs"),
        ),
        sa.CheckConstraint(
            "size_usd >= 0", name=op.f("ck_strategy_positions_size_usd_non_negative")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_strategy_positions")),
    )
    op.create_index(
        "ix_strategy_positions_strategy_status",
        "strategy_positions",
        ["strategy_name", "status"],
        unique=False,
    )
    op.create_index("ix_strategy_positions_symbol", "strategy_positions", ["symbol"], unique=False)
    op.create_index(
        "uq_strategy_positions_active_pair",
        "strategy_positions",
        ["strategy_name", "symbol", "long_dex", "short_dex"],
        unique=True,
        postgresql_nulls_not_distinct=True,
        postgresql_where=sa.text("status IN ('opening', 'open', 'closing', 'needs_reconcile')"),
    )
    op.create_table(
        "strategy_state",
        sa.Column("strategy_name", sa.String(length=50), nullable=False),
        sa.Column(
            "state_data",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "last_updated",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("version >= 1", name=op.f("ck_strategy_state_version_positive")),
        sa.PrimaryKeyConstraint("strategy_name", name=op.f("pk_strategy_state")),
    )
    op.create_table(
        "funding_payments",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("position_id", sa.UUID(), nullable=False),
        sa.Column("strategy_name", sa.String(length=50), nullable=False),
        sa.Column("venue", sa.String(length=20), nullable=False),
        sa.Column("symbol", sa.String(length=20), nullable=False),
        sa.Column("funding_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rate", sa.Numeric(precision=38, scale=18), nullable=False),
        sa.Column("position_qty", sa.Numeric(precision=38, scale=18), nullable=False),
        sa.Column("mark_price", sa.Numeric(precision=38, scale=18), nullable=False),
        sa.Column("amount_usd", sa.Numeric(precision=38, scale=18), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["position_id"],
            ["strategy_positions.id"],
            name=op.f("fk_funding_payments_position_id_strategy_positions"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_funding_payments")),
    )
    op.create_index(
        "uq_funding_payments_leg_time",
        "funding_payments",
        ["position_id", "venue", "funding_time"],
        unique=True,
    )
    op.create_table(
        "orders",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("client_order_id", sa.String(length=64), nullable=False),
        sa.Column("strategy_name", sa.String(length=50), nullable=False),
        sa.Column("position_id", sa.UUID(), nullable=True),
        sa.Column("venue", sa.String(length=20), nullable=False),
        sa.Column("symbol", sa.String(length=20), nullable=False),
        sa.Column("side", sa.String(length=4), nullable=False),
        sa.Column("order_type", sa.String(length=8), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=38, scale=18), nullable=False),
        sa.Column("price", sa.Numeric(precision=38, scale=18), nullable=True),
        sa.Column("reduce_only", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("purpose", sa.String(length=24), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column(
            "filled_qty",
            sa.Numeric(precision=38, scale=18),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column("avg_fill_price", sa.Numeric(precision=38, scale=18), nullable=True),
        sa.Column(
            "fee_usd",
            sa.Numeric(precision=38, scale=18),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column("venue_order_id", sa.String(length=128), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "order_type <> 'limit' OR price IS NOT NULL", name=op.f("ck_orders_limit_has_price")
        ),
        sa.CheckConstraint("order_type IN ('market', 'limit')", name=op.f("ck_orders_order_type")),
        sa.CheckConstraint("side IN ('buy', 'sell')", name=op.f("ck_orders_side")),
        sa.CheckConstraint(
            "status IN ('intent', 'sent', 'open', 'partially_filled', 'filled', 'cancelled', 'rejected', 'unknown')",
            name=op.f("ck_orders_status"),
        ),
        sa.CheckConstraint(
            "filled_qty >= 0 AND filled_qty <= quantity", name=op.f("ck_orders_filled_within_qty")
        ),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_orders_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["position_id"],
            ["strategy_positions.id"],
            name=op.f("fk_orders_position_id_strategy_positions"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("client_order_id", name=op.f("uq_orders_client_order_id")),
    )
    op.create_index("ix_orders_position_id", "orders", ["position_id"], unique=False)
    op.create_index(
        "ix_orders_strategy_status", "orders", ["strategy_name", "status"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_orders_strategy_status", table_name="orders")
    op.drop_index("ix_orders_position_id", table_name="orders")
    op.drop_table("orders")
    op.drop_index("uq_funding_payments_leg_time", table_name="funding_payments")
    op.drop_table("funding_payments")
    op.drop_table("strategy_state")
    op.drop_index(
        "uq_strategy_positions_active_pair",
        table_name="strategy_positions",
        postgresql_nulls_not_distinct=True,
        postgresql_where=sa.text("status IN ('opening', 'open', 'closing', 'needs_reconcile')"),
    )
    op.drop_index("ix_strategy_positions_symbol", table_name="strategy_positions")
    op.drop_index("ix_strategy_positions_strategy_status", table_name="strategy_positions")
    op.drop_table("strategy_positions")
    op.drop_index("uq_funding_rates_observation", table_name="funding_rates")
    op.drop_index("ix_funding_rates_symbol_observed", table_name="funding_rates")
    op.drop_table("funding_rates")
    op.drop_index("ix_fund_transfers_status_next_check", table_name="fund_transfers")
    op.drop_table("fund_transfers")
    op.execute("DROP TRIGGER IF EXISTS events_append_only ON events")
    op.execute("DROP FUNCTION IF EXISTS events_append_only()")
    op.drop_index("ix_events_strategy_occurred", table_name="events")
    op.drop_index("ix_events_entity", table_name="events")
    op.drop_table("events")
