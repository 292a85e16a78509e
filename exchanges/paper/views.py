"""How paper-venue rows look through the port: `VenueOrder` and `Position`."""

from __future__ import annotations

from decimal import Decimal

from core.enums import OrderSide, OrderStatus, OrderType
from db.models.paper import PaperOrder, PaperPosition
from exchanges.base import Position, VenueOrder
from exchanges.paper.book import state_of
from exchanges.paper.margin import ZERO, liquidation_price, money, unrealized_pnl
from exchanges.venues import symbol_spec


def venue_order(order: PaperOrder) -> VenueOrder:
    return VenueOrder(
        venue=order.venue,
        client_order_id=order.client_order_id,
        venue_order_id=str(order.id),
        symbol=order.symbol,
        side=OrderSide(order.side),
        order_type=OrderType(order.order_type),
        quantity=order.quantity,
        price=order.price,
        status=OrderStatus(order.status),
        filled_qty=order.filled_qty,
        avg_fill_price=order.avg_fill_price,
        fee=order.fee,
        reduce_only=order.reduce_only,
        updated_at=order.updated_at,
    )


def position_view(row: PaperPosition, mark: Decimal) -> Position:
    """The position at `mark`, with its modelled liquidation price and effective leverage."""
    state = state_of(row)
    spec = symbol_spec(row.symbol)
    leverage = abs(row.qty) * row.entry_price / row.margin if row.margin else ZERO
    return Position(
        venue=row.venue,
        symbol=row.symbol,
        qty=row.qty,
        entry_price=row.entry_price,
        mark_price=mark,
        unrealized_pnl=unrealized_pnl(state, mark),
        liquidation_price=liquidation_price(state, spec.maintenance_margin_rate),
        margin=row.margin,
        leverage=money(leverage),
    )
