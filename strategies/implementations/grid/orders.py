"""Prices, sizes and order intents of the grid (pure).

- Open orders are limits at the touch: the best bid for a long grid, the best ask for a
  short one (post-only in boost mode), so they rest until the price comes to them.
- A take-profit is a reduce-only limit at entry * (1 + take_profit_pct / 100) for a long
  grid (1 - ... for a short one), rounded to the tick *away* from the entry so the profit is
  never less than configured; in boost mode it is a reduce-only market order.
- The close-all order (stop loss, on_stop: close) is a reduce-only market order.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from core.enums import OrderType
from core.market import Instrument, TopOfBook
from core.money import quantize_down
from strategies.components.base_components import OrderIntent
from strategies.implementations.grid.config import GridConfig
from strategies.implementations.grid.models import GridLevel, OrderKind

HUNDRED = Decimal(100)


class GridSizeError(ValueError):
    """The configured order size is below what the venue accepts."""


def to_tick(price: Decimal, tick: Decimal, rounding: str) -> Decimal:
    return (price / tick).to_integral_value(rounding=rounding) * tick


class GridOrders:
    """Builds the grid's order intents for one run on one instrument."""

    def __init__(
        self, strategy_name: str, config: GridConfig, instrument: Instrument, run_id: str
    ) -> None:
        self.name = strategy_name
        self.config = config
        self.instrument = instrument
        self.run_id = run_id
        self.sign = config.direction.sign

    def open_price(self, book: TopOfBook) -> Decimal:
        tick = self.instrument.tick_size
        if self.sign > 0:
            return to_tick(book.bid, tick, ROUND_FLOOR)
        return to_tick(book.ask, tick, ROUND_CEILING)

    def target_price(self, entry: Decimal) -> Decimal:
        """The take-profit price for an entry price."""
        factor = 1 + self.sign * self.config.take_profit_pct / HUNDRED
        rounding = ROUND_CEILING if self.sign > 0 else ROUND_FLOOR
        return to_tick(entry * factor, self.instrument.tick_size, rounding)

    def order_qty(self, price: Decimal) -> Decimal:
        """Base quantity per open order; `GridSizeError` if the venue would refuse it."""
        config, instrument = self.config, self.instrument
        if config.order_qty is not None:
            qty = quantize_down(config.order_qty, instrument.qty_step)
            wanted = f"order_qty {config.order_qty}"
        else:
            assert config.order_notional_usd is not None  # the config requires one of them
            qty = quantize_down(config.order_notional_usd / price, instrument.qty_step)
            wanted = f"order_notional_usd {config.order_notional_usd} at {price}"
        if qty < instrument.min_qty or qty <= 0:
            raise GridSizeError(
                f"grid {self.name}: {wanted} gives {qty} {instrument.symbol}, below the "
                f"minimum order {instrument.min_qty} (step {instrument.qty_step}) on "
                f"{instrument.venue}"
            )
        return qty

    def open_intent(self, level: GridLevel) -> OrderIntent:
        return self._intent(
            level.open_id(self.run_id),
            OrderKind.OPEN,
            side=self.config.direction.open_side,
            order_type=OrderType.LIMIT,
            quantity=level.open_qty,
            price=level.open_price,
            post_only=level.post_only,
        )

    def tp_intent(self, level: GridLevel) -> OrderIntent:
        return self._intent(
            level.tp_id(self.run_id),
            OrderKind.TAKE_PROFIT,
            side=self.config.direction.close_side,
            order_type=OrderType.MARKET if level.tp_market else OrderType.LIMIT,
            quantity=level.qty,
            price=None if level.tp_market else level.tp_price,
            reduce_only=True,
        )

    def close_intent(self, client_order_id: str, qty: Decimal) -> OrderIntent:
        return self._intent(
            client_order_id,
            OrderKind.CLOSE,
            side=self.config.direction.close_side,
            order_type=OrderType.MARKET,
            quantity=qty,
            reduce_only=True,
        )

    def _intent(self, client_order_id: str, kind: OrderKind, **fields: Any) -> OrderIntent:
        return OrderIntent(
            client_order_id=client_order_id,
            strategy_name=self.name,
            venue=self.config.venue,
            symbol=self.config.symbol,
            purpose=kind.purpose,
            **fields,
        )
