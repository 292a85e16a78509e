"""`orders`: every order is written here (intent) before it is sent to a venue."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import Mapped, mapped_column

from core.enums import OrderSide, OrderStatus, OrderType, sql_in
from db.base import Base
from db.models._columns import created_at, money_zero, updated_at


def _ours(context: DefaultExecutionContext) -> str:
    """Unless told otherwise, the venue knows the order by our id (the paper venue)."""
    return str(context.get_current_parameters()["client_order_id"])


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    # Derived from what the order is for (position id + leg + purpose): a retry of the same
    # intent has the same id, and the unique constraint stops a second row.
    client_order_id: Mapped[str] = mapped_column(String(64), unique=True)
    # The same id in the venue's own form (hex, an integer, a shorter text), derived from ours
    # by the venue adapter; unique per venue, so two intents can never share one.
    venue_client_order_id: Mapped[str] = mapped_column(String(80), default=_ours)
    strategy_name: Mapped[str] = mapped_column(String(50))
    position_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("strategy_positions.id", ondelete="RESTRICT")
    )
    venue: Mapped[str] = mapped_column(String(20))
    symbol: Mapped[str] = mapped_column(String(20))
    side: Mapped[str] = mapped_column(String(4))
    order_type: Mapped[str] = mapped_column(String(8))
    quantity: Mapped[Decimal]
    price: Mapped[Decimal | None]
    reduce_only: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    purpose: Mapped[str] = mapped_column(String(24))
    status: Mapped[str] = mapped_column(String(20), default=OrderStatus.INTENT.value)
    filled_qty: Mapped[Decimal] = money_zero()
    avg_fill_price: Mapped[Decimal | None]
    fee_usd: Mapped[Decimal] = money_zero()
    venue_order_id: Mapped[str | None] = mapped_column(String(128))
    error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()

    __table_args__ = (
        CheckConstraint(f"side IN ({sql_in(OrderSide)})", name="side"),
        CheckConstraint(f"order_type IN ({sql_in(OrderType)})", name="order_type"),
        CheckConstraint(f"status IN ({sql_in(OrderStatus)})", name="status"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("filled_qty >= 0 AND filled_qty <= quantity", name="filled_within_qty"),
        CheckConstraint("order_type <> 'limit' OR price IS NOT NULL", name="limit_has_price"),
        UniqueConstraint("venue", "venue_client_order_id"),
        Index("ix_orders_strategy_status", "strategy_name", "status"),
        Index("ix_orders_position_id", "position_id"),
    )
