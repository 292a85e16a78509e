"""Circuit breakers: pure decisions over a scope's figures.

`evaluate(limits, figures, now)` returns every breaker the figures trip, in a fixed order
(the first is recorded as the halt's cause, the others are named in its reason). Reading the
figures and acting on the trips (a halt, an alert, optional closes) is
`strategies/breaker_check.py`'s; nothing here touches a database or a venue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from core.ops_config import BreakerLimits


class BreakerKind(StrEnum):
    MAX_DRAWDOWN = "max_drawdown"
    DAILY_LOSS = "daily_loss"
    FAILED_OPENS = "failed_opens"
    UNHEDGED_NOTIONAL = "unhedged_notional"
    VENUE_DOWN = "venue_down"
    # Venue and perpbot disagree about a position in a way no safe repair covers.
    RECONCILE_MISMATCH = "reconcile_mismatch"
    MANUAL = "manual"  # an operator's `trading_bot.py halt` or the dashboard's button


@dataclass(frozen=True, slots=True)
class VenueOutage:
    venue: str
    account: str
    since: datetime  # the first failed probe
    error: str


@dataclass(frozen=True, slots=True)
class ScopeFigures:
    scope: str  # a strategy name, or "*"
    net_pnl_usd: Decimal
    peak_pnl_usd: Decimal
    day_start_pnl_usd: Decimal
    consecutive_failed_opens: int
    unhedged_notional_usd: Decimal
    outages: tuple[VenueOutage, ...] = ()

    @property
    def drawdown_usd(self) -> Decimal:
        return max(self.peak_pnl_usd - self.net_pnl_usd, Decimal(0))

    @property
    def daily_loss_usd(self) -> Decimal:
        return max(self.day_start_pnl_usd - self.net_pnl_usd, Decimal(0))


@dataclass(frozen=True, slots=True)
class BreakerTrip:
    scope: str
    breaker: BreakerKind
    reason: str


def _usd(value: Decimal) -> str:
    return f"{value:,.2f} USD"


def evaluate(limits: BreakerLimits, figures: ScopeFigures, now: datetime) -> list[BreakerTrip]:
    """The breakers `figures` trip under `limits` (unset limits never trip)."""
    trips: list[BreakerTrip] = []

    def trip(kind: BreakerKind, reason: str) -> None:
        trips.append(BreakerTrip(figures.scope, kind, reason))

    if limits.max_drawdown_usd is not None and figures.drawdown_usd >= limits.max_drawdown_usd:
        trip(
            BreakerKind.MAX_DRAWDOWN,
            f"drawdown {_usd(figures.drawdown_usd)} (net PnL {_usd(figures.net_pnl_usd)}, "
            f"peak {_usd(figures.peak_pnl_usd)}) reached the limit "
            f"{_usd(limits.max_drawdown_usd)}",
        )
    if (
        limits.max_daily_loss_usd is not None
        and figures.daily_loss_usd >= limits.max_daily_loss_usd
    ):
        trip(
            BreakerKind.DAILY_LOSS,
            f"lost {_usd(figures.daily_loss_usd)} since 00:00 UTC (limit "
            f"{_usd(limits.max_daily_loss_usd)})",
        )
    failed = limits.max_consecutive_failed_opens
    if failed is not None and figures.consecutive_failed_opens >= failed:
        trip(
            BreakerKind.FAILED_OPENS,
            f"{figures.consecutive_failed_opens} opens in a row failed (limit {failed})",
        )
    unhedged = limits.max_unhedged_notional_usd
    if unhedged is not None and figures.unhedged_notional_usd >= unhedged:
        trip(
            BreakerKind.UNHEDGED_NOTIONAL,
            f"{_usd(figures.unhedged_notional_usd)} held unhedged (limit {_usd(unhedged)})",
        )
    if limits.venue_unreachable_seconds is not None:
        for outage in figures.outages:
            down = (now - outage.since).total_seconds()
            if down >= limits.venue_unreachable_seconds:
                trip(
                    BreakerKind.VENUE_DOWN,
                    f"{outage.venue}/{outage.account} unreachable for {down:.0f} s "
                    f"(limit {limits.venue_unreachable_seconds:.0f} s): {outage.error}",
                )
    return trips


def stricter(own: BreakerLimits, deployment: BreakerLimits) -> float | None:
    """The venue-unreachable limit a strategy runs under: its own or the deployment's,
    whichever is shorter (the deployment-wide one applies to every strategy on the venue)."""
    limits = [
        v
        for v in (own.venue_unreachable_seconds, deployment.venue_unreachable_seconds)
        if v is not None
    ]
    return min(limits) if limits else None
