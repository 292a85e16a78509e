"""funding history: kind (predicted / realised) and margin asset on funding_rates

Revision ID: 0006_funding_history
Revises: 0005_clock_times

`funding_rates` holds two kinds of data that must never mix: the venues' predicted quotes
(what the live collector stores) and realised settlements (imported or fetched history).
Every row now says which it is (`kind`), and which perpetual it belongs to (`margin_asset`):
the USDT- and the USDC-margined perpetual of one base are separate series. The unique key
becomes (kind, venue, symbol, margin_asset, observed_at).

Rows stored before this revision are the collector's quotes: they become `predicted` and
`USDC` (the paper venue's collateral, and the settle asset the ccxt adapter prefers). A venue
whose traded perpetual settles otherwise (Aster: USDT) keeps pre-0006 quotes labelled USDC;
the live readers do not filter on the margin asset, so nothing reads them differently.

Downgrade drops the realised history (the old schema cannot tell it from quotes) and, of
quotes that would collide without the margin asset, keeps the first stored.
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_funding_history"
down_revision: str | None = "0005_clock_times"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "funding_rates",
        sa.Column("margin_asset", sa.String(length=10), nullable=False, server_default="USDC"),
    )
    op.add_column(
        "funding_rates",
        sa.Column("kind", sa.String(length=10), nullable=False, server_default="predicted"),
    )
    op.alter_column("funding_rates", "margin_asset", server_default=None)
    op.alter_column("funding_rates", "kind", server_default=None)
    op.create_check_constraint(
        op.f("ck_funding_rates_kind_known"),
        "funding_rates",
        "kind IN ('predicted', 'realised')",
    )
    op.create_check_constraint(
        op.f("ck_funding_rates_margin_asset_set"), "funding_rates", "margin_asset <> ''"
    )
    op.drop_index("uq_funding_rates_observation", table_name="funding_rates")
    op.create_index(
        "uq_funding_rates_series_time",
        "funding_rates",
        ["kind", "venue", "symbol", "margin_asset", "observed_at"],
        unique=True,
    )


def downgrade() -> None:
    op.execute("DELETE FROM funding_rates WHERE kind = 'realised'")
    op.execute(
        """
        DELETE FROM funding_rates f USING funding_rates g
        WHERE f.venue = g.venue AND f.symbol = g.symbol AND f.observed_at = g.observed_at
          AND f.id > g.id
        """
    )
    op.drop_index("uq_funding_rates_series_time", table_name="funding_rates")
    op.create_index(
        "uq_funding_rates_observation",
        "funding_rates",
        ["venue", "symbol", "observed_at"],
        unique=True,
    )
    op.drop_constraint(op.f("ck_funding_rates_margin_asset_set"), "funding_rates", type_="check")
    op.drop_constraint(op.f("ck_funding_rates_kind_known"), "funding_rates", type_="check")
    op.drop_column("funding_rates", "kind")
    op.drop_column("funding_rates", "margin_asset")
