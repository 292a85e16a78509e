"""Operations tables beside `halts`: what the circuit breakers remember between checks
(`breaker_marks`, `venue_health`) and which alerts went out (`alert_deliveries`), so several
workers share one view and never double-send."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base

ALERT_DELIVERY_STATUSES = ("sent", "failed", "suppressed")


class BreakerMark(Base):
    """Per scope (a strategy, or `*` for the whole deployment): the highest net PnL seen
    (drawdown is measured from it) and the net PnL at the start of the current UTC day."""

    __tablename__ = "breaker_marks"

    scope: Mapped[str] = mapped_column(String(50), primary_key=True)
    peak_pnl_usd: Mapped[Decimal]
    day: Mapped[date]
    day_start_pnl_usd: Mapped[Decimal]
    updated_at: Mapped[datetime]  # from the deployment's clock


class VenueHealth(Base):
    """The last probe of one venue account: when it last answered, since when it does not."""

    __tablename__ = "venue_health"

    venue: Mapped[str] = mapped_column(String(20), primary_key=True)
    account: Mapped[str] = mapped_column(String(40), primary_key=True)
    checked_at: Mapped[datetime]
    last_ok_at: Mapped[datetime | None]
    down_since: Mapped[datetime | None]  # first failed probe of the current outage
    last_error: Mapped[str | None] = mapped_column(Text)


class AlertDelivery(Base):
    """One alert handed to the sink: sent, failed (delivery error) or suppressed (duplicate
    within the window, or over the rate limit). The latest `sent` row per key is what
    deduplication looks at."""

    __tablename__ = "alert_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    dedupe_key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(10))
    strategy_name: Mapped[str | None] = mapped_column(String(50))
    subject: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12))
    detail: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint(
            "status IN (" + ", ".join(f"'{s}'" for s in ALERT_DELIVERY_STATUSES) + ")",
            name="status",
        ),
        Index("ix_alert_deliveries_key_at", "dedupe_key", "at"),
        Index("ix_alert_deliveries_status_at", "status", "at"),
    )
