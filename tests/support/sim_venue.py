"""`SimVenue`: a small in-memory perpetual venue (`ExchangeClient` + `FundingHistory`) for
tests that must run without PostgreSQL.

Market data is an hourly series per symbol (mark price and funding rate per interval), read
through the clock: the newest point at or before now is the market. Market orders fill at
once at the book (the mark, moved by `half_spread_bps` against the taker and onto the tick
grid), pay the taker fee and net into one position per symbol with the paper venue's own
arithmetic (`exchanges.simulation.margin`). Funding is settled once per funding time (every
`interval_hours` from midnight UTC) on the position held just before it — a position opened
exactly at a funding time does not pay it — before anything else happens at that time.

Limit orders, withdrawals and deposits are not modelled (refused); the full in-memory venue
arrives with the backtester.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from core.clock import Clock
from core.enums import OrderSide, OrderStatus, OrderType
from core.market import FundingKind, FundingRate, Instrument, TopOfBook
from exchanges.base import (
    Balance,
    Capability,
    CapabilityNotSupportedError,
    ExchangeError,
    FundingPayment,
    MovementReceipt,
    OrderRejectedError,
    OrderRequest,
    Position,
    VenueOrder,
)
from exchanges.simulation.margin import (
    FLAT,
    PositionState,
    apply_fill,
    execution_price,
    fee_for,
    liquidation_price,
    money,
    unrealized_pnl,
)

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class MarketPoint:
    """One observation of a symbol: the mark and the funding rate per interval from `at`."""

    at: datetime
    mark: Decimal
    rate: Decimal


@dataclass(frozen=True, slots=True)
class Fill:
    """A fill as the venue booked it (for checking a strategy's accounting by hand)."""

    client_order_id: str
    symbol: str
    side: OrderSide
    qty: Decimal
    price: Decimal
    fee: Decimal
    at: datetime


class SimVenue:
    def __init__(
        self,
        name: str,
        clock: Clock,
        *,
        deposit: Decimal,
        taker_fee: Decimal,
        leverage: Decimal = Decimal(3),
        interval_hours: int = 1,
        half_spread_bps: Decimal = ZERO,
        min_qty: Decimal = Decimal("0.01"),
        qty_step: Decimal = Decimal("0.01"),
        tick_size: Decimal = Decimal("0.01"),
        maintenance_rate: Decimal = Decimal("0.025"),
    ) -> None:
        self.name = name
        self._clock = clock
        self._taker_fee = taker_fee
        self._leverage = leverage
        self._interval = timedelta(hours=interval_hours)
        self._half_spread_bps = half_spread_bps
        self._sizes = (min_qty, qty_step, tick_size)
        self._maintenance = maintenance_rate
        self._series: dict[str, list[MarketPoint]] = {}
        self._positions: dict[str, PositionState] = {}
        self._orders: dict[str, VenueOrder] = {}
        self.cash = deposit
        self.fills: list[Fill] = []
        self.funding: list[FundingPayment] = []
        self._settled_until = clock.now()

    # ---------------------------------------------------------------- set-up

    def quote(self, symbol: str, points: Sequence[MarketPoint]) -> None:
        """Add market data for `symbol` (kept in time order)."""
        merged = {p.at: p for p in [*self._series.get(symbol, []), *points]}
        self._series[symbol] = [merged[at] for at in sorted(merged)]

    # ---------------------------------------------------------------- market data

    def capabilities(self) -> frozenset[Capability]:
        return frozenset(
            {
                Capability.FUNDING_RATES,
                Capability.ORDER_BOOK,
                Capability.TRADING,
                Capability.CLIENT_ORDER_ID_LOOKUP,
                Capability.POSITIONS,
                Capability.BALANCE,
            }
        )

    def instruments(self) -> Sequence[Instrument]:
        min_qty, step, tick = self._sizes
        return [
            Instrument(self.name, symbol, min_qty, step, tick, ZERO, self._taker_fee)
            for symbol in sorted(self._series)
        ]

    def funding_rates(self, symbols: Sequence[str] | None = None) -> Sequence[FundingRate]:
        self._settle()
        now = self._clock.now()
        rates = []
        for symbol in sorted(symbols if symbols is not None else self._series):
            point = self._point(symbol, now, required=False)
            if point is not None:
                rates.append(
                    FundingRate(
                        self.name,
                        symbol,
                        point.rate,
                        Decimal(self._interval.total_seconds() / 3600),
                        self._next_funding_time(now),
                        point.mark,
                        point.at,
                        margin_asset="USDC",
                        kind=FundingKind.PREDICTED,
                    )
                )
        return rates

    def top_of_book(self, symbol: str) -> TopOfBook:
        self._settle()
        mark = self._mark(symbol)
        bid, ask = (self._price(mark, side) for side in (OrderSide.SELL, OrderSide.BUY))
        return TopOfBook(self.name, symbol, bid, Decimal(1_000), ask, Decimal(1_000), self._now())

    # ---------------------------------------------------------------- orders

    def place_order(self, request: OrderRequest) -> VenueOrder:
        self._settle()
        existing = self._orders.get(request.client_order_id)
        if existing is not None:
            return existing
        if request.order_type is not OrderType.MARKET:
            raise OrderRejectedError(self.name, f"{request.client_order_id}: market orders only")
        held = self._positions.get(request.symbol, FLAT)
        qty = request.quantity
        if request.reduce_only:
            reducing = held.qty < 0 if request.side is OrderSide.BUY else held.qty > 0
            if not reducing:
                raise OrderRejectedError(
                    self.name, f"{request.client_order_id}: reduce-only order would open"
                )
            qty = min(qty, abs(held.qty))
        mark = self._mark(request.symbol)
        price = self._price(mark, request.side)
        fee = fee_for(qty, price, self._taker_fee)
        effect = apply_fill(held, request.side, qty, price, self._leverage)
        if effect.margin_added and effect.margin_added + fee > self._available():
            raise OrderRejectedError(self.name, f"{request.client_order_id}: insufficient margin")
        self._positions[request.symbol] = effect.after
        self.cash += effect.realized_pnl - fee
        self.fills.append(
            Fill(
                request.client_order_id, request.symbol, request.side, qty, price, fee, self._now()
            )
        )
        order = VenueOrder(
            venue=self.name,
            client_order_id=request.client_order_id,
            venue_order_id=f"{self.name}-{len(self._orders) + 1}",
            symbol=request.symbol,
            side=request.side,
            order_type=request.order_type,
            quantity=request.quantity,
            price=None,
            status=OrderStatus.FILLED,
            filled_qty=qty,
            avg_fill_price=price,
            fee=fee,
            reduce_only=request.reduce_only,
            updated_at=self._now(),
        )
        self._orders[request.client_order_id] = order
        return order

    def cancel_order(self, symbol: str, client_order_id: str) -> VenueOrder:
        order = self._orders.get(client_order_id)
        if order is None:
            raise OrderRejectedError(self.name, f"{client_order_id}: no such order")
        return order  # market orders are done the moment they are placed

    def get_order(self, symbol: str, client_order_id: str) -> VenueOrder | None:
        return self._orders.get(client_order_id)

    def open_orders(self, symbol: str | None = None) -> Sequence[VenueOrder]:
        return []

    # ---------------------------------------------------------------- account

    def positions(self) -> Sequence[Position]:
        self._settle()
        held = []
        for symbol, state in sorted(self._positions.items()):
            if state.qty == 0:
                continue
            mark = self._mark(symbol)
            held.append(
                Position(
                    self.name,
                    symbol,
                    state.qty,
                    state.entry_price,
                    mark,
                    unrealized_pnl(state, mark),
                    liquidation_price(state, self._maintenance),
                    state.margin,
                    self._leverage,
                )
            )
        return held

    def balance(self) -> Balance:
        self._settle()
        upnl = sum((p.unrealized_pnl for p in self.positions()), ZERO)
        used = self._margin_used()
        return Balance(self.name, "USDC", self.cash + upnl, self._available(), used)

    def funding_payments(self, symbol: str | None, since: datetime) -> Sequence[FundingPayment]:
        self._settle()
        return [
            p
            for p in self.funding
            if p.funding_time > since and (symbol is None or p.symbol == symbol)
        ]

    # ---------------------------------------------------------------- transfers (not modelled)

    def withdraw(
        self, asset: str, amount: Decimal, address: str, chain: str, idempotency_key: str
    ) -> MovementReceipt:
        raise CapabilityNotSupportedError(self.name, "withdraw")

    def get_withdrawal(self, idempotency_key: str) -> MovementReceipt | None:
        raise CapabilityNotSupportedError(self.name, "get_withdrawal")

    def deposit_address(self, asset: str, chain: str) -> str:
        raise CapabilityNotSupportedError(self.name, "deposit_address")

    def get_deposit(self, reference: str) -> MovementReceipt | None:
        raise CapabilityNotSupportedError(self.name, "get_deposit")

    # ---------------------------------------------------------------- internals

    def _now(self) -> datetime:
        return self._clock.now()

    def _point(self, symbol: str, at: datetime, required: bool = True) -> MarketPoint | None:
        found = None
        for point in self._series.get(symbol, []):
            if point.at > at:
                break
            found = point
        if found is None and required:
            raise ExchangeError(self.name, f"no market data for {symbol} at {at.isoformat()}")
        return found

    def _mark(self, symbol: str) -> Decimal:
        point = self._point(symbol, self._now())
        assert point is not None  # required=True raises instead
        return point.mark

    def _price(self, mark: Decimal, side: OrderSide) -> Decimal:
        return execution_price(mark, side, ZERO, self._sizes[2], self._half_spread_bps, ZERO)

    def _margin_used(self) -> Decimal:
        return sum((s.margin for s in self._positions.values()), ZERO)

    def _available(self) -> Decimal:
        losses = sum((min(p.unrealized_pnl, ZERO) for p in self._open_positions().values()), ZERO)
        return self.cash - self._margin_used() + losses

    def _open_positions(self) -> Mapping[str, Position]:
        return {p.symbol: p for p in self.positions()}

    def _next_funding_time(self, after: datetime) -> datetime:
        midnight = after.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        periods = (after - midnight) // self._interval + 1
        return midnight + periods * self._interval

    def _settle(self) -> None:
        """Pay funding for every funding time since the last settlement, up to now."""
        now = self._now()
        due = self._next_funding_time(self._settled_until)
        while due <= now:
            for symbol, state in sorted(self._positions.items()):
                point = self._point(symbol, due, required=False)
                if state.qty == 0 or point is None:
                    continue
                amount = money(-state.qty * point.mark * point.rate)
                self.cash += amount
                self.funding.append(
                    FundingPayment(
                        self.name, symbol, due, amount, point.rate, state.qty, point.mark
                    )
                )
            self._settled_until = due
            due += self._interval
        self._settled_until = max(self._settled_until, now)
