"""Money of a position computed from its journaled orders: entry prices, fees, trading PnL,
what each leg holds by our own fills.

Pure functions over the `OrderRecord`s of one position, so the numbers can be checked by
hand: a leg that went from flat back to flat earned (sell notional - buy notional) before
fees and funding. Each leg of a position trades on its own venue, so a leg's orders are the
position's orders on that venue.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from core.enums import OrderSide
from strategies.components.base_components import OrderRecord
from strategies.implementations.funding_arbitrage.models import LegSpec, qty_text

ZERO = Decimal(0)


def total_fees(records: Iterable[OrderRecord]) -> Decimal:
    """Trading fees of every order of the position (negative fees are rebates)."""
    return sum((r.fee_usd for r in records), ZERO)


def realized_trading_pnl(records: Iterable[OrderRecord]) -> Decimal:
    """Sell notional minus buy notional over every fill: the trading PnL of legs that are flat."""
    pnl = ZERO
    for record in records:
        if record.filled_qty == 0 or record.avg_fill_price is None:
            continue
        notional = record.filled_qty * record.avg_fill_price
        pnl += notional if record.intent.side is OrderSide.SELL else -notional
    return pnl


def leg_records(records: Iterable[OrderRecord], spec: LegSpec) -> list[OrderRecord]:
    """The position's orders of one leg (the leg's venue and symbol)."""
    return [r for r in records if r.intent.venue == spec.venue and r.intent.symbol == spec.symbol]


def journal_held(records: Iterable[OrderRecord], spec: LegSpec) -> Decimal:
    """What the leg holds by our own fills: opening-side fills minus closing-side fills."""
    held = ZERO
    for record in leg_records(records, spec):
        if record.intent.side is spec.leg.opening_side:
            held += record.filled_qty
        else:
            held -= record.filled_qty
    return held


def fills_vwap(records: Iterable[OrderRecord], spec: LegSpec) -> Decimal | None:
    """Volume-weighted price of the leg's opening-side fills (its entry); None without."""
    qty = ZERO
    notional = ZERO
    for record in records:
        intent = record.intent
        if intent.venue != spec.venue or intent.side is not spec.leg.opening_side:
            continue
        if record.filled_qty == 0 or record.avg_fill_price is None:
            continue
        qty += record.filled_qty
        notional += record.filled_qty * record.avg_fill_price
    return notional / qty if qty else None


def describe_failures(records: Iterable[OrderRecord]) -> str:
    """Why opening orders did not both fill completely, for the position's reason."""
    parts = []
    for record in records:
        intent = record.intent
        if record.filled_qty == intent.quantity:
            continue
        what = f"{intent.side.value} {qty_text(intent.quantity)} {intent.symbol} on {intent.venue}"
        if record.filled_qty > 0:
            parts.append(f"{what} filled {qty_text(record.filled_qty)} only")
        else:
            parts.append(f"{what} {record.status.value}: {record.error or 'no fill'}")
    return "; ".join(parts)
