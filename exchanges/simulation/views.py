"""How a simulated venue's state looks through the port (`VenueOrder`, `Position`, ...)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from core.enums import OrderSide
from core.market import FundingKind, FundingRate, Instrument, TopOfBook
from exchanges.base import Balance, Position, VenueOrder
from exchanges.simulation.margin import (
    ZERO,
    execution_price,
    liquidation_price,
    money,
    unrealized_pnl,
)
from exchanges.simulation.market import Tick, next_funding_time
from exchanges.simulation.orders import Terms
from exchanges.simulation.state import Holding, OrderState
from exchanges.venues import SymbolSpec

COLLATERAL = "USDC"


def order_view(venue: str, order: OrderState) -> VenueOrder:
    return VenueOrder(
        venue=venue,
        client_order_id=order.client_order_id,
        venue_order_id=str(order.id),
        symbol=order.symbol,
        side=order.side,
        order_type=order.order_type,
        quantity=order.quantity,
        price=order.price,
        status=order.status,
        filled_qty=order.filled_qty,
        avg_fill_price=order.avg_fill_price,
        fee=order.fee,
        reduce_only=order.reduce_only,
        updated_at=order.updated_at,
    )


def position_view(venue: str, holding: Holding, mark: Decimal, spec: SymbolSpec) -> Position:
    """The position at `mark`, with its modelled liquidation price and effective leverage."""
    state = holding.state
    leverage = abs(holding.qty) * holding.entry_price / holding.margin if holding.margin else ZERO
    return Position(
        venue=venue,
        symbol=holding.symbol,
        qty=holding.qty,
        entry_price=holding.entry_price,
        mark_price=mark,
        unrealized_pnl=unrealized_pnl(state, mark),
        liquidation_price=liquidation_price(state, spec.maintenance_margin_rate),
        margin=holding.margin,
        leverage=money(leverage),
    )


def balance_view(
    venue: str, collateral: Decimal, committed: tuple[Decimal, Decimal], upnl: Decimal
) -> Balance:
    """Equity is collateral plus unrealized PnL; available excludes all margin in use."""
    held, reserved = committed
    return Balance(
        venue=venue,
        asset=COLLATERAL,
        total=money(collateral + upnl),
        available=money(collateral - held - reserved),
        margin_used=money(held + reserved),
    )


def funding_rate_views(venue: str, ticks: Sequence[Tick], now: datetime) -> list[FundingRate]:
    """The quoted funding of each tick in force at `now`, with its next funding time."""
    next_times: dict[Decimal, datetime] = {}
    rates = []
    for tick in ticks:
        interval = tick.interval_hours
        next_time = next_times.get(interval)
        if next_time is None:
            next_time = next_times[interval] = next_funding_time(now, interval)
        rates.append(
            FundingRate(
                venue=venue,
                symbol=tick.symbol,
                rate=tick.funding_rate,
                interval_hours=interval,
                next_funding_time=next_time,
                mark_price=tick.mark_price,
                timestamp=tick.ts,
                margin_asset=COLLATERAL,
                kind=FundingKind.PREDICTED,  # the quote in force, not a settlement
            )
        )
    return rates


def modelled_book(
    venue: str, tick: Tick, spec: SymbolSpec, slippage_bps: Decimal, depth_usd: Decimal
) -> TopOfBook:
    """The top of book the slippage model implies: the mark +- the fixed slippage, with
    `depth_usd` of quantity on each side."""
    mark = tick.mark_price
    qty = (depth_usd / mark // spec.qty_step) * spec.qty_step
    return TopOfBook(
        venue=venue,
        symbol=tick.symbol,
        bid=execution_price(mark, OrderSide.SELL, ZERO, spec.tick_size, slippage_bps, ZERO),
        bid_qty=qty,
        ask=execution_price(mark, OrderSide.BUY, ZERO, spec.tick_size, slippage_bps, ZERO),
        ask_qty=qty,
        timestamp=tick.ts,
    )


def instrument_view(venue: str, symbol: str, spec: SymbolSpec, terms: Terms) -> Instrument:
    return Instrument(
        venue=venue,
        symbol=symbol,
        min_qty=spec.min_qty,
        qty_step=spec.qty_step,
        tick_size=spec.tick_size,
        maker_fee=terms.maker_fee,
        taker_fee=terms.taker_fee,
        max_leverage=spec.max_leverage,
    )
