"""Money of a position computed from its journaled orders: entry prices, fees, trading PnL.

Pure functions over `OrderRecord`s, so the numbers can be checked by hand: a leg that went
from flat back to flat earned (sell notional - buy notional) before fees and funding.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from core.enums import OrderSide
from strategies.components.base_components import OrderRecord
from strategies.implementations.funding_arbitrage.models import qty_text
from strategies.implementations.funding_arbitrage.operations.leg_orders import LegSpec

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
