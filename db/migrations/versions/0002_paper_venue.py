"""paper venue

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 06:47:17.227927

The simulated venue's tables (prefix paper_): venues (the per-venue lock and how far it has
simulated), accounts, orders (unique per venue + client order id), net positions, fills, the
ledger of every balance change, funding settlements (unique per venue + symbol + funding
time), withdrawals/deposits (unique per venue + direction + reference) and scenario ticks.
Generated with autogenerate against a scratch database at 0001, then reviewed.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "paper_accounts",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("venue", sa.String(length=20), nullable=False),
        sa.Column("account", sa.String(length=40), nullable=False),
        sa.Column(
            "collateral",
            sa.Numeric(precision=38, scale=18),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper_accounts")),
        sa.UniqueConstraint("venue", "account", name=op.f("uq_paper_accounts_venue_account")),
    )
    op.create_table(
        "paper_funding_settlements",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("venue", sa.String(length=20), nullable=False),
        sa.Column("symbol", sa.String(length=20), nullable=False),
        sa.Column("funding_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rate", sa.Numeric(precision=38, scale=18), nullable=False),
        sa.Column("interval_hours", sa.Numeric(precision=38, scale=18), nullable=False),
        sa.Column("mark_price", sa.Numeric(precision=38, scale=18), nullable=False),
        sa.Column("accounts_paid", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "net_amount",
            sa.Numeric(precision=38, scale=18),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper_funding_settlements")),
        sa.UniqueConstraint(
            "venue",
            "symbol",
            "funding_time",
            name=op.f("uq_paper_funding_settlements_venue_symbol_funding_time"),
        ),
    )
    op.create_table(
        "paper_market_ticks",
        sa.Column("venue", sa.String(length=20), nullable=False),
        sa.Column("symbol", sa.String(length=20), nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("mark_price", sa.Numeric(precision=38, scale=18), nullable=False),
        sa.Column("funding_rate", sa.Numeric(precision=38, scale=18), nullable=False),
        sa.Column("interval_hours", sa.Numeric(precision=38, scale=18), nullable=False),
        sa.CheckConstraint(
            "interval_hours > 0", name=op.f("ck_paper_market_ticks_interval_positive")
        ),
        sa.CheckConstraint(
            "mark_price > 0", name=op.f("ck_paper_market_ticks_mark_price_positive")
        ),
        sa.PrimaryKeyConstraint("venue", "symbol", "ts", name=op.f("pk_paper_market_ticks")),
    )
    op.create_table(
        "paper_venues",
        sa.Column("venue", sa.String(length=20), nullable=False),
        sa.Column("processed_through", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("venue", name=op.f("pk_paper_venues")),
    )
    op.create_table(
        "paper_ledger",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("venue", sa.String(length=20), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("amount", sa.Numeric(precision=38, scale=18), nullable=False),
        sa.Column("symbol", sa.String(length=20), nullable=True),
        sa.Column("reference", sa.String(length=160), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind IN ('deposit', 'withdrawal', 'withdrawal_fee', 'withdrawal_refund', 'trading_fee', 'realized_pnl', 'funding', 'liquidation_fee')",
            name=op.f("ck_paper_ledger_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["paper_accounts.id"],
            name=op.f("fk_paper_ledger_account_id_paper_accounts"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper_ledger")),
        sa.UniqueConstraint(
            "account_id",
            "kind",
            "reference",
            name=op.f("uq_paper_ledger_account_id_kind_reference"),
        ),
    )
    op.create_table(
        "paper_orders",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("venue", sa.String(length=20), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("client_order_id", sa.String(length=64), nullable=False),
        sa.Column("symbol", sa.String(length=20), nullable=False),
        sa.Column("side", sa.String(length=4), nullable=False),
        sa.Column("order_type", sa.String(length=8), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=38, scale=18), nullable=False),
        sa.Column("price", sa.Numeric(precision=38, scale=18), nullable=True),
        sa.Column("reduce_only", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("post_only", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column(
            "filled_qty",
            sa.Numeric(precision=38, scale=18),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column("avg_fill_price", sa.Numeric(precision=38, scale=18), nullable=True),
        sa.Column(
            "fee", sa.Numeric(precision=38, scale=18), server_default=sa.text("0"), nullable=False
        ),
        sa.Column("leverage", sa.Numeric(precision=38, scale=18), nullable=False),
        sa.Column("maker_fee_rate", sa.Numeric(precision=38, scale=18), nullable=False),
        sa.Column(
            "reserved_margin",
            sa.Numeric(precision=38, scale=18),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "order_type <> 'limit' OR price IS NOT NULL",
            name=op.f("ck_paper_orders_limit_has_price"),
        ),
        sa.CheckConstraint(
            "order_type IN ('market', 'limit')", name=op.f("ck_paper_orders_order_type")
        ),
        sa.CheckConstraint("side IN ('buy', 'sell')", name=op.f("ck_paper_orders_side")),
        sa.CheckConstraint(
            "status IN ('intent', 'sent', 'open', 'partially_filled', 'filled', 'cancelled', 'rejected', 'unknown')",
            name=op.f("ck_paper_orders_status"),
        ),
        sa.CheckConstraint(
            "filled_qty >= 0 AND filled_qty <= quantity",
            name=op.f("ck_paper_orders_filled_within_qty"),
        ),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_paper_orders_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["paper_accounts.id"],
            name=op.f("fk_paper_orders_account_id_paper_accounts"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper_orders")),
        sa.UniqueConstraint(
            "venue", "client_order_id", name=op.f("uq_paper_orders_venue_client_order_id")
        ),
    )
    op.create_index(
        "ix_paper_orders_account_status", "paper_orders", ["account_id", "status"], unique=False
    )
    op.create_index(
        "ix_paper_orders_venue_status", "paper_orders", ["venue", "status"], unique=False
    )
    op.create_table(
        "paper_positions",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("venue", sa.String(length=20), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("symbol", sa.String(length=20), nullable=False),
        sa.Column(
            "qty", sa.Numeric(precision=38, scale=18), server_default=sa.text("0"), nullable=False
        ),
        sa.Column(
            "entry_price",
            sa.Numeric(precision=38, scale=18),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column(
            "margin",
            sa.Numeric(precision=38, scale=18),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column(
            "realized_pnl",
            sa.Numeric(precision=38, scale=18),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column(
            "funding_pnl",
            sa.Numeric(precision=38, scale=18),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("margin >= 0", name=op.f("ck_paper_positions_margin_non_negative")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["paper_accounts.id"],
            name=op.f("fk_paper_positions_account_id_paper_accounts"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper_positions")),
        sa.UniqueConstraint(
            "account_id", "symbol", name=op.f("uq_paper_positions_account_id_symbol")
        ),
    )
    op.create_index(
        "ix_paper_positions_venue_symbol", "paper_positions", ["venue", "symbol"], unique=False
    )
    op.create_table(
        "paper_transfers",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("venue", sa.String(length=20), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("direction", sa.String(length=10), nullable=False),
        sa.Column("reference", sa.String(length=128), nullable=False),
        sa.Column("asset", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.Numeric(precision=38, scale=18), nullable=False),
        sa.Column(
            "fee", sa.Numeric(precision=38, scale=18), server_default=sa.text("0"), nullable=False
        ),
        sa.Column("chain", sa.String(length=32), nullable=False),
        sa.Column("address", sa.String(length=128), nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("tx_hash", sa.String(length=80), nullable=True),
        sa.Column("fail_reason", sa.Text(), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("complete_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "direction IN ('withdrawal', 'deposit')", name=op.f("ck_paper_transfers_direction")
        ),
        sa.CheckConstraint(
            "state IN ('pending', 'completed', 'failed')", name=op.f("ck_paper_transfers_state")
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_paper_transfers_amount_positive")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["paper_accounts.id"],
            name=op.f("fk_paper_transfers_account_id_paper_accounts"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper_transfers")),
        sa.UniqueConstraint(
            "venue",
            "direction",
            "reference",
            name=op.f("uq_paper_transfers_venue_direction_reference"),
        ),
    )
    op.create_index(
        "ix_paper_transfers_venue_state", "paper_transfers", ["venue", "state"], unique=False
    )
    op.create_table(
        "paper_fills",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("venue", sa.String(length=20), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("order_id", sa.UUID(), nullable=True),
        sa.Column("symbol", sa.String(length=20), nullable=False),
        sa.Column("side", sa.String(length=4), nullable=False),
        sa.Column("qty", sa.Numeric(precision=38, scale=18), nullable=False),
        sa.Column("price", sa.Numeric(precision=38, scale=18), nullable=False),
        sa.Column("fee", sa.Numeric(precision=38, scale=18), nullable=False),
        sa.Column("liquidity", sa.String(length=12), nullable=False),
        sa.Column("filled_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "liquidity IN ('maker', 'taker', 'liquidation')", name=op.f("ck_paper_fills_liquidity")
        ),
        sa.CheckConstraint("qty > 0", name=op.f("ck_paper_fills_qty_positive")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["paper_accounts.id"],
            name=op.f("fk_paper_fills_account_id_paper_accounts"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["paper_orders.id"],
            name=op.f("fk_paper_fills_order_id_paper_orders"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper_fills")),
    )
    op.create_index(
        "ix_paper_fills_account_symbol", "paper_fills", ["account_id", "symbol"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_paper_fills_account_symbol", table_name="paper_fills")
    op.drop_table("paper_fills")
    op.drop_index("ix_paper_transfers_venue_state", table_name="paper_transfers")
    op.drop_table("paper_transfers")
    op.drop_index("ix_paper_positions_venue_symbol", table_name="paper_positions")
    op.drop_table("paper_positions")
    op.drop_index("ix_paper_orders_venue_status", table_name="paper_orders")
    op.drop_index("ix_paper_orders_account_status", table_name="paper_orders")
    op.drop_table("paper_orders")
    op.drop_table("paper_ledger")
    op.drop_table("paper_venues")
    op.drop_table("paper_market_ticks")
    op.drop_table("paper_funding_settlements")
    op.drop_table("paper_accounts")
