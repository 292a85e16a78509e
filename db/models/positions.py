"""`strategy_positions`: one row per (hedged or single-leg) position a strategy holds."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from core.enums import ACTIVE_POSITION_STATUSES, PositionOperation, PositionStatus, sql_in
from db.base import Base
from db.models._columns import money_zero


class StrategyPosition(Base):
    __tablename__ = "strategy_positions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    strategy_name: Mapped[str] = mapped_column(String(50))
    symbol: Mapped[str] = mapped_column(String(20))
    # A hedged position has both legs; a single-venue (grid) position has one of them.
    long_dex: Mapped[str | None] = mapped_column(String(20))
    short_dex: Mapped[str | None] = mapped_column(String(20))
    size_usd: Mapped[Decimal]
    long_qty: Mapped[Decimal] = money_zero()
    short_qty: Mapped[Decimal] = money_zero()
    long_entry_price: Mapped[Decimal | None]
    short_entry_price: Mapped[Decimal | None]
    # Divergence is on the hourly basis: short venue's hourly rate minus long venue's.
    entry_divergence: Mapped[Decimal | None]
    current_divergence: Mapped[Decimal | None]
    long_funding_usd: Mapped[Decimal] = money_zero()
    short_funding_usd: Mapped[Decimal] = money_zero()
    fees_usd: Mapped[Decimal] = money_zero()
    realized_pnl_usd: Mapped[Decimal] = money_zero()
    unrealized_pnl_usd: Mapped[Decimal] = money_zero()
    status: Mapped[str] = mapped_column(String(20), default=PositionStatus.OPENING.value)
    close_reason: Mapped[str | None] = mapped_column(Text)
    # What an unfinished position is in the middle of, and why it was started: a restarted
    # process carries it on from these (never from the audit log's prose).
    operation: Mapped[str | None] = mapped_column(String(20))
    operation_reason: Mapped[str | None] = mapped_column(Text)
    close_failed_at: Mapped[datetime | None]  # the last close that failed (legs rehedged)
    opened_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    last_monitored_at: Mapped[datetime | None]
    # Domain times (a position's age is read by recovery and the time-based policy): the
    # position manager writes them from its clock; no server default, no onupdate.
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(default=1, server_default=text("1"))

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint(f"status IN ({sql_in(PositionStatus)})", name="status"),
        CheckConstraint(
            f"operation IS NULL OR operation IN ({sql_in(PositionOperation)})", name="operation"
        ),
        CheckConstraint("size_usd >= 0", name="size_usd_non_negative"),
        CheckConstraint("long_dex IS NOT NULL OR short_dex IS NOT NULL", name="has_a_leg"),
        CheckConstraint(
            "long_dex IS NULL OR short_dex IS NULL OR long_dex <> short_dex", name="distinct_legs"
        ),
        Index("ix_strategy_positions_strategy_status", "strategy_name", "status"),
        Index("ix_strategy_positions_symbol", "symbol"),
        # At most one active position per strategy, symbol and venue pair: a retried open
        # can never create a second one.
        Index(
            "uq_strategy_positions_active_pair",
            "strategy_name",
            "symbol",
            "long_dex",
            "short_dex",
            unique=True,
            postgresql_nulls_not_distinct=True,
            postgresql_where=text(f"status IN ({sql_in(ACTIVE_POSITION_STATUSES)})"),
        ),
    )
