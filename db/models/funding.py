"""`funding_rates` (time series per venue and symbol) and `funding_payments` (per position)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Identity, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base
from db.models._columns import created_at


class FundingRate(Base):
    __tablename__ = "funding_rates"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    venue: Mapped[str] = mapped_column(String(20))
    symbol: Mapped[str] = mapped_column(String(20))
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
        # Collection is idempotent: the same observation stored twice is one row.
        Index("uq_funding_rates_observation", "venue", "symbol", "observed_at", unique=True),
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
    )
