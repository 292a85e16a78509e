"""Data types of the funding-arbitrage strategy: legs, what a decision reads about a market,
and what carrying a decision out reports. The decisions themselves are in `decisions.py`.

Everything here is a frozen dataclass of Decimal money and UTC times, so phase results turn
into JSON through `CycleResult.to_json()` and can be compared in tests.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from core.enums import OrderSide, PositionOperation, PositionStatus
from core.market import HOURS_PER_YEAR
from funding_service.opportunities import Opportunity


class Leg(StrEnum):
    """The two legs of a hedged position; the value is used in client order ids."""

    LONG = "L"
    SHORT = "S"

    @property
    def opening_side(self) -> OrderSide:
        return OrderSide.BUY if self is Leg.LONG else OrderSide.SELL

    @property
    def closing_side(self) -> OrderSide:
        return OrderSide.SELL if self is Leg.LONG else OrderSide.BUY

    @property
    def sign(self) -> int:
        """+1 for the long leg, -1 for the short one (venue quantities are signed)."""
        return 1 if self is Leg.LONG else -1

    @property
    def label(self) -> str:
        return "long" if self is Leg.LONG else "short"


def qty_text(value: Decimal) -> str:
    """A quantity as people write it: 1, 0.5, 12.25 (not 1.000000000000000000)."""
    return f"{value.normalize():f}"


def apr(hourly: Decimal) -> Decimal:
    return hourly * HOURS_PER_YEAR


@dataclass(frozen=True, slots=True)
class LegSpec:
    """Where one leg trades and the order sizes valid there."""

    leg: Leg
    venue: str
    symbol: str
    min_qty: Decimal
    qty_step: Decimal


@dataclass(frozen=True, slots=True)
class LegState:
    """One leg as its venue reports it right now."""

    leg: Leg
    venue: str
    symbol: str
    qty: Decimal  # signed, as the venue reports it (0: flat)
    mark_price: Decimal | None
    unrealized_pnl: Decimal
    liquidation_price: Decimal | None
    margin: Decimal

    @property
    def held(self) -> Decimal:
        """Quantity held on the leg's side (negative would mean the wrong side)."""
        return self.qty * self.leg.sign

    @property
    def notional(self) -> Decimal:
        return abs(self.qty) * (self.mark_price or Decimal(0))

    @property
    def liquidation_distance(self) -> Decimal | None:
        """|mark - liquidation price| / mark; None when the venue gives no liquidation price."""
        if self.liquidation_price is None or not self.mark_price:
            return None
        return abs(self.mark_price - self.liquidation_price) / self.mark_price


@dataclass(frozen=True, slots=True)
class PositionMarket:
    """What a rebalance policy knows about a position's market at decision time."""

    legs: Mapping[Leg, LegState]
    divergence_hourly: Decimal | None  # now; None when a leg has no fresh rate
    close_cost_rate: Decimal  # taker fees of closing both legs, fraction of notional
    horizon_hours: Decimal
    # Pairs this position could switch to, best first (no leg shared with another position).
    alternatives: tuple[Opportunity, ...] = ()


@dataclass(frozen=True, slots=True)
class OpenPlan:
    """An open the strategy decided: the pair, the common quantity, the expected notional."""

    opportunity: Opportunity
    qty: Decimal
    size_usd: Decimal
    entry_gap_bps: Decimal  # (long ask - short bid) / mid, in bps, when decided


@dataclass(frozen=True, slots=True)
class TransferNeed:
    """Margin that should move from a venue with excess to one below its minimum."""

    from_venue: str
    to_venue: str
    amount_usd: Decimal
    reason: str


# ---------------------------------------------------------------- outcomes


@dataclass(frozen=True, slots=True)
class TransferNotStarted:
    """A need that was recorded but not handed to a transfer: this deployment cannot move
    money (live mode). `key` names the need (`from->to`)."""

    key: str
    reason: str


@dataclass(frozen=True, slots=True)
class ExecutionReport:
    """What a hedged operation (open, close, reduce, reconcile) left behind."""

    position_id: uuid.UUID
    operation: PositionOperation
    status: PositionStatus
    detail: str
    long_qty: Decimal = Decimal(0)
    short_qty: Decimal = Decimal(0)
    orders: tuple[str, ...] = ()  # client order ids it placed or resolved

    @property
    def summary(self) -> str:
        return f"{self.operation} -> {self.status}: {self.detail}"


@dataclass(frozen=True, slots=True)
class PositionMonitored:
    position_id: uuid.UUID
    symbol: str
    divergence_hourly: Decimal | None
    long_funding_usd: Decimal
    short_funding_usd: Decimal
    new_payments: int
    unrealized_pnl_usd: Decimal
    min_liquidation_distance: Decimal | None
    note: str = ""


@dataclass(frozen=True, slots=True)
class PhaseSkipped:
    """Nothing was done for a position or a venue, and why (a venue down, a finished
    position): decided like any other outcome, carried out by doing nothing."""

    phase: str
    reason: str
    details: Mapping[str, str] = field(default_factory=dict)
