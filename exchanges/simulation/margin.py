"""Pure perp arithmetic of the paper venue: fills on a net position, margin, liquidation.

No I/O here, so every formula can be checked by hand (see docs/venues.md). All amounts that
reach the ledger are quantized to the database's 18 decimal places first, so that an
account's collateral always equals the sum of its ledger rows exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Context, Decimal
from functools import lru_cache

from core.enums import OrderSide

ZERO = Decimal(0)
ONE = Decimal(1)
BPS = Decimal(10_000)
MILLION = Decimal(1_000_000)
_QUANTUM = Decimal("1e-18")  # NUMERIC(38, 18)
_WIDE = Context(prec=60)  # quantizing a large amount to 18 places needs more than 28 digits


def money(value: Decimal) -> Decimal:
    """`value` rounded to the 18 decimal places the database stores."""
    return value.quantize(_QUANTUM, rounding=ROUND_HALF_EVEN, context=_WIDE)


def signed(side: OrderSide, qty: Decimal) -> Decimal:
    return qty if side is OrderSide.BUY else -qty


def _sign(value: Decimal) -> int:
    return (value > 0) - (value < 0)


@dataclass(frozen=True, slots=True)
class PositionState:
    qty: Decimal  # signed
    entry_price: Decimal
    margin: Decimal  # isolated margin allocated to the position


FLAT = PositionState(ZERO, ZERO, ZERO)


@dataclass(frozen=True, slots=True)
class FillEffect:
    """What one fill does to a position and to the account's cash."""

    after: PositionState
    realized_pnl: Decimal
    margin_added: Decimal  # needed for the part that opens or extends the position
    margin_released: Decimal  # freed by the part that closes it

    @property
    def opens(self) -> bool:
        return self.margin_added > 0


def apply_fill(
    position: PositionState, side: OrderSide, qty: Decimal, price: Decimal, leverage: Decimal
) -> FillEffect:
    """Net a fill of `qty` at `price` into `position` (one position per symbol, like a perp).

    Extending: entry becomes the size-weighted average, margin grows by notional / leverage.
    Reducing: PnL `closed * (price - entry) * direction` is realized and the closed share of
    the margin is released. Crossing through zero does both: the remainder opens at `price`.
    """
    if qty <= 0 or price <= 0 or leverage <= 0:
        raise ValueError(f"fill needs positive qty, price and leverage: {qty}, {price}, {leverage}")
    delta = signed(side, qty)
    held = position.qty
    if held == 0 or _sign(held) == _sign(delta):
        new_qty = held + delta
        entry = money((abs(held) * position.entry_price + qty * price) / abs(new_qty))
        added = money(qty * price / leverage)
        after = PositionState(new_qty, entry, position.margin + added)
        return FillEffect(after, ZERO, added, ZERO)
    closed = min(qty, abs(held))
    realized = money(closed * (price - position.entry_price) * _sign(held))
    if closed == abs(held):
        released = position.margin
    else:
        released = money(position.margin * closed / abs(held))
    remainder = qty - closed
    if remainder == 0:
        new_qty = held + delta
        after = PositionState(
            new_qty, position.entry_price if new_qty else ZERO, position.margin - released
        )
        return FillEffect(after, realized, ZERO, released)
    added = money(remainder * price / leverage)
    after = PositionState(signed(side, remainder), price, added)
    return FillEffect(after, realized, added, released)


def unrealized_pnl(position: PositionState, mark: Decimal) -> Decimal:
    return money(position.qty * (mark - position.entry_price))


@lru_cache(maxsize=4096)  # a position's price changes only with its fills; ticks ask often
def liquidation_price(position: PositionState, maintenance_rate: Decimal) -> Decimal | None:
    """The mark at which the position's equity falls to its maintenance margin.

    Equity on an isolated position is `margin + qty * (P - entry)`; maintenance margin is
    `mmr * |qty| * P`. Setting them equal and solving for P:

        P_liq = (entry - margin / qty) / (1 - mmr * sign(qty))

    None when the position is flat or cannot be liquidated (a long backed by its full
    notional or more gives P_liq <= 0).
    """
    if position.qty == 0:
        return None
    direction = _sign(position.qty)
    price = (position.entry_price - position.margin / position.qty) / (
        ONE - maintenance_rate * direction
    )
    if price <= 0:
        return None
    return money(price)


def is_liquidated(position: PositionState, mark: Decimal, maintenance_rate: Decimal) -> bool:
    price = liquidation_price(position, maintenance_rate)
    if price is None:
        return False
    return mark <= price if position.qty > 0 else mark >= price


def execution_price(
    mark: Decimal,
    side: OrderSide,
    qty: Decimal,
    tick_size: Decimal,
    slippage_bps: Decimal,
    impact_bps_per_million: Decimal,
) -> Decimal:
    """Where a market order fills: the mark moved against the taker, then onto the tick grid.

    Slippage is a fixed part (half the spread) plus a part proportional to the order's
    notional, `impact_bps_per_million` per 1,000,000 USD, so large orders walk the book.
    Rounding to the tick is always against the taker (buys up, sells down).
    """
    notional = qty * mark
    bps = slippage_bps + impact_bps_per_million * notional / MILLION
    moved = mark * (ONE + bps / BPS) if side is OrderSide.BUY else mark * (ONE - bps / BPS)
    rounding = ROUND_CEILING if side is OrderSide.BUY else ROUND_FLOOR
    ticks = (moved / tick_size).to_integral_value(rounding=rounding)
    return max(ticks * tick_size, tick_size)


def fee_for(qty: Decimal, price: Decimal, rate: Decimal) -> Decimal:
    """Trading fee in USDC (negative for a maker rebate)."""
    return money(qty * price * rate)
