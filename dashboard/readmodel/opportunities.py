"""The live ranking per funding-arbitrage strategy, with why each near-miss is left out.

The ranking is the funding service's own (`rank_opportunities`) over the collected quotes,
with the strategy's entry rules (`opportunity_filter`). Near-misses are the best pairs of a
relaxed ranking (any positive divergence, any breakeven) that the strategy's rules refuse;
each says which rule. Refusals made at open time (risk, slippage, free margin...) are the
strategy's own `open.refused` events. Fees are perpbot's venue table (the paper venues
charge exactly these; live venues report their own, so live figures may differ slightly).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.market import HOURS_PER_YEAR, FundingKind
from dashboard.readmodel.scope import Scope
from db.models import Event
from db.repositories.funding_rates import FundingRateRepository
from exchanges.venues import VENUES
from funding_service.fees import FeeSchedule, VenueFees
from funding_service.opportunities import (
    Exclusion,
    Opportunity,
    OpportunityFilter,
    rank_opportunities,
)
from strategies.implementations.funding_arbitrage.api_client import FundingServiceClient
from strategies.implementations.funding_arbitrage.market_data import opportunity_filter

NEAR_MISSES = 15
REFUSALS_SHOWN = 30
# The relaxed ranking: every pair that earns anything, however slowly it pays back.
_ANY_BREAKEVEN = Decimal(10) ** 9


@dataclass(frozen=True, slots=True)
class Refusal:
    at: datetime
    symbol: str
    long_venue: str
    short_venue: str
    rule: str
    reason: str


@dataclass(frozen=True, slots=True)
class NearMiss:
    opportunity: Opportunity
    why: list[str]  # the entry rules it fails


@dataclass(frozen=True)
class StrategyOpportunities:
    strategy: str
    filter: OpportunityFilter
    size_usd: Decimal
    ranked: list[Opportunity]
    near_misses: list[NearMiss]
    excluded: list[Exclusion]
    refusals: list[Refusal]
    quotes_at: datetime | None  # the newest quote the ranking read
    unknown_fees: list[str]  # venues perpbot has no fee table for (left out)

    @property
    def min_apr(self) -> Decimal:
        return self.filter.min_divergence_hourly * HOURS_PER_YEAR


def _fees(venues: frozenset[str] | None) -> tuple[FeeSchedule, list[str]]:
    names = sorted(venues or VENUES)
    known = {v: VenueFees(VENUES[v].maker_fee, VENUES[v].taker_fee) for v in names if v in VENUES}
    return FeeSchedule(known), [v for v in names if v not in VENUES]


def _why(opp: Opportunity, flt: OpportunityFilter) -> list[str]:
    why = []
    if opp.divergence_hourly < flt.min_divergence_hourly:
        why.append(
            f"APR {opp.apr * 100:.2f}% below entry.min_apr "
            f"{flt.min_divergence_hourly * HOURS_PER_YEAR * 100:.2f}%"
        )
    if opp.breakeven_hours > flt.max_breakeven_hours:
        why.append(
            f"breakeven {opp.breakeven_hours:.1f} h above entry.max_breakeven_hours "
            f"{flt.max_breakeven_hours}"
        )
    if opp.net_rate <= 0:
        why.append(f"fees exceed the funding over the {flt.horizon_hours} h horizon")
    return why


def for_strategy(session: Session, scope: Scope, name: str) -> StrategyOpportunities:
    config: Any = scope.configs[name]
    flt = opportunity_filter(config)
    fees, unknown = _fees(flt.venues)
    rates = FundingRateRepository(session).latest(
        scope.now - FundingServiceClient.LOOKBACK,
        sorted(flt.venues or ()),
        sorted(flt.symbols or ()),
        kind=FundingKind.PREDICTED,
    )
    ranking = rank_opportunities(rates, fees, flt, scope.now)
    relaxed = replace(flt, min_divergence_hourly=Decimal(0), max_breakeven_hours=_ANY_BREAKEVEN)
    passing = {o.key for o in ranking.opportunities}
    near = [
        NearMiss(o, _why(o, flt))
        for o in rank_opportunities(rates, fees, relaxed, scope.now).opportunities
        if o.key not in passing
    ][:NEAR_MISSES]
    return StrategyOpportunities(
        name,
        flt,
        Decimal(config.sizing.position_size_usd),
        ranking.opportunities,
        near,
        ranking.excluded,
        _refusals(session, name),
        max((r.timestamp for r in rates), default=None),
        unknown,
    )


def _refusals(session: Session, strategy: str) -> list[Refusal]:
    found = []
    for event in session.scalars(
        select(Event)
        .where(
            Event.strategy_name == strategy,
            Event.entity_type == "strategy",
            Event.kind == "open.refused",
        )
        .order_by(Event.id.desc())
        .limit(REFUSALS_SHOWN)
    ):
        symbol, long_venue, short_venue = (list(event.payload.get("opportunity") or []) + [""] * 3)[
            :3
        ]
        found.append(
            Refusal(
                event.occurred_at,
                str(symbol),
                str(long_venue),
                str(short_venue),
                str(event.payload.get("rule", "")),
                str(event.payload.get("reason", "")),
            )
        )
    return found
