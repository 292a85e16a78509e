"""`funding_rates` (time series per venue and symbol) and `funding_payments` (per position)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Identity, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from core.market import FundingKind
from db.base import Base
from db.models._columns import created_at

_KINDS = ", ".join(f"'{kind.value}'" for kind in FundingKind)


class FundingRate(Base):
    """One funding rate of one instrument (venue, base symbol, margin asset), of one kind.

    `kind` says what the row is (`core.market.FundingKind`): a predicted quote observed at
    `observed_at`, or a realised settlement paid at `observed_at`, the end of its accrual
    window `[observed_at - interval_hours, observed_at)`. Either way `observed_at` is the
    first moment the row was known; readers ask for one kind and never get the other.
    """

    __tablename__ = "funding_rates"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    venue: Mapped[str] = mapped_column(String(20))
    symbol: Mapped[str] = mapped_column(String(20))
    # What the perpetual settles in: USDT- and USDC-margined perpetuals are separate series.
    margin_asset: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(10))
    # The rate per funding interval as the venue quotes it; never assume 8 hours.
    rate: Mapped[Decimal]
    interval_hours: Mapped[Decimal]
    next_funding_time: Mapped[datetime | None]
    mark_price: Mapped[Decimal | None]
    open_interest_usd: Mapped[Decimal | None]
    observed_at: Mapped[datetime]
    created_at: Mapped[datetime] = created_at()

    __table_args__ = (
        CheckConstraint("interval_hours > 0", name="interval_positive"),
        CheckConstraint(f"kind IN ({_KINDS})", name="kind_known"),
        CheckConstraint("margin_asset <> ''", name="margin_asset_set"),
        # Collection and import are idempotent: one row per series and time. Kind first, so
        # every reader (which names one kind) walks only its own rows.
        Index(
            "uq_funding_rates_series_time",
            "kind",
            "venue",
            "symbol",
            "margin_asset",
            "observed_at",
            unique=True,
        ),
        Index("ix_funding_rates_symbol_observed", "symbol", "observed_at"),
    )


class FundingPayment(Base):
    __tablename__ = "funding_payments"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    position_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("strategy_positions.id", ondelete="RESTRICT")
    )
    strategy_name: Mapped[str] = mapped_column(String(50))
    venue: Mapped[str] = mapped_column(String(20))
    symbol: Mapped[str] = mapped_column(String(20))
    funding_time: Mapped[datetime]
    rate: Mapped[Decimal]
    # Signed base quantity held at funding time: positive long, negative short.
    position_qty: Mapped[Decimal]
    mark_price: Mapped[Decimal]
    # Signed USD: positive was received, negative was paid.
    amount_usd: Mapped[Decimal]
    created_at: Mapped[datetime] = created_at()

    __table_args__ = (
        # One payment per leg per funding time, however often monitoring runs.
        Index("uq_funding_payments_leg_time", "position_id", "venue", "funding_time", unique=True),
        Index("ix_funding_payments_funding_time", "funding_time"),  # the PnL curve's start
    )
