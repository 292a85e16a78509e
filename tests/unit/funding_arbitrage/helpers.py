"""Hand-made positions and markets for the pure parts of funding arbitrage."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from core.enums import PositionStatus
from core.market import HOURS_PER_YEAR
from funding_service.opportunities import Opportunity
from strategies.components.base_components import PositionRecord
from strategies.implementations.funding_arbitrage.models import Leg, LegState, PositionMarket

D = Decimal
T0 = datetime(2026, 3, 2, tzinfo=UTC)


def hourly(apr: str) -> Decimal:
    return D(apr) / HOURS_PER_YEAR


def position(**changes: Any) -> PositionRecord:
    record = PositionRecord(
        id=uuid.UUID(int=1),
        strategy_name="arb",
        symbol="ETH",
        long_dex="lighter",
        short_dex="hyperliquid",
        size_usd=D(10_000),
        long_qty=D(1),
        short_qty=D(1),
        long_entry_price=D(3000),
        short_entry_price=D(3000),
        entry_divergence=hourly("0.40"),
        current_divergence=None,
        long_funding_usd=D(0),
        short_funding_usd=D(0),
        fees_usd=D(0),
        realized_pnl_usd=D(0),
        unrealized_pnl_usd=D(0),
        status=PositionStatus.OPEN,
        close_reason=None,
        operation=None,
        operation_reason=None,
        close_failed_at=None,
        opened_at=T0,
        closed_at=None,
        last_monitored_at=None,
        created_at=T0,
        updated_at=T0,
        version=1,
    )
    return replace(record, **changes)


def leg(which: Leg, mark: str = "3000", liquidation: str | None = None) -> LegState:
    return LegState(
        leg=which,
        venue="lighter" if which is Leg.LONG else "hyperliquid",
        symbol="ETH",
        qty=D(which.sign),
        mark_price=D(mark),
        unrealized_pnl=D(0),
        liquidation_price=None if liquidation is None else D(liquidation),
        margin=D(1000),
    )


def market(
    divergence_apr: str | None = "0.40",
    long_liq: str | None = None,
    short_liq: str | None = None,
    alternatives: tuple[Opportunity, ...] = (),
    horizon: str = "168",
) -> PositionMarket:
    return PositionMarket(
        legs={
            Leg.LONG: leg(Leg.LONG, liquidation=long_liq),
            Leg.SHORT: leg(Leg.SHORT, liquidation=short_liq),
        },
        divergence_hourly=None if divergence_apr is None else hourly(divergence_apr),
        close_cost_rate=D("0.00045"),
        horizon_hours=D(horizon),
        alternatives=alternatives,
    )


def opportunity(
    divergence_apr: str,
    cost_rate: str = "0.001",
    symbol: str = "SOL",
    long_venue: str = "lighter",
    short_venue: str = "hyperliquid",
    horizon: str = "168",
) -> Opportunity:
    divergence = hourly(divergence_apr)
    cost = D(cost_rate)
    return Opportunity(
        symbol=symbol,
        long_venue=long_venue,
        short_venue=short_venue,
        long_hourly=D(0),
        short_hourly=divergence,
        divergence_hourly=divergence,
        cost_rate=cost,
        breakeven_hours=cost / divergence,
        net_rate=divergence * D(horizon) - cost,
        horizon_hours=D(horizon),
        observed_at=T0,
    )


def later(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)
