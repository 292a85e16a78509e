"""The positions page (every active position, the latest closed ones) and one position's
page: legs, hedge, divergence, funding realised per leg against what the entry predicted,
fees, age, the rebalancer's latest decision and the position's events."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, func, select, text
from sqlalchemy.orm import Session

from core.enums import ACTIVE_POSITION_STATUSES
from core.market import HOURS_PER_YEAR
from dashboard.readmodel.legs import LegView, leg_sources
from dashboard.readmodel.paging import Paging
from dashboard.readmodel.scope import Scope
from db.models import Event, FundingPayment, Order, StrategyPosition

# A page of positions renders in well under the dashboard's 200 ms with 1,000 in the table
# (bench/bench_dashboard.py); the rest are a link away.
ACTIVE_PAGE_SIZE = 100
CLOSED_PAGE_SIZE = 50
TIMELINE_PAGE_SIZE = 200  # events of one position, newest first


@dataclass(frozen=True, slots=True)
class PositionRow:
    position: StrategyPosition
    legs: list[LegView]

    @property
    def mismatch_qty(self) -> Decimal:
        """Long size minus short size: zero when hedged."""
        return self.position.long_qty - self.position.short_qty

    @property
    def funding_usd(self) -> Decimal:
        return self.position.long_funding_usd + self.position.short_funding_usd

    @property
    def min_liquidation_distance(self) -> Decimal | None:
        found = [leg.liquidation_distance for leg in self.legs]
        known = [d for d in found if d is not None]
        return min(known) if known else None

    def apr(self, hourly: Decimal | None) -> Decimal | None:
        return None if hourly is None else hourly * HOURS_PER_YEAR


@dataclass(frozen=True, slots=True)
class PositionList:
    active: list[PositionRow]
    active_paging: Paging
    closed: list[PositionRow]
    closed_paging: Paging


def position_list(
    session: Session,
    scope: Scope,
    strategy: str | None = None,
    active_page: int = 1,
    closed_page: int = 1,
) -> PositionList:
    """One page of the active positions (by strategy, then age) and one of the closed or
    failed ones (newest close first); pages are 1-based."""
    active_filter: ColumnElement[bool] = StrategyPosition.status.in_(ACTIVE_POSITION_STATUSES)
    closed_filter: ColumnElement[bool] = StrategyPosition.status.not_in(ACTIVE_POSITION_STATUSES)
    if strategy is not None:
        active_filter = active_filter & (StrategyPosition.strategy_name == strategy)
        closed_filter = closed_filter & (StrategyPosition.strategy_name == strategy)
    active_total, closed_total = session.execute(
        select(func.count().filter(active_filter), func.count().filter(closed_filter)).select_from(
            StrategyPosition
        )
    ).one()
    active_paging = Paging(active_page, ACTIVE_PAGE_SIZE, int(active_total))
    closed_paging = Paging(closed_page, CLOSED_PAGE_SIZE, int(closed_total))
    active = list(
        session.scalars(
            select(StrategyPosition)
            .where(active_filter)
            .order_by(
                StrategyPosition.strategy_name, StrategyPosition.created_at, StrategyPosition.id
            )
            .offset(active_paging.offset)
            .limit(active_paging.size)
        )
    )
    closed = list(
        session.scalars(
            select(StrategyPosition)
            .where(closed_filter)
            .order_by(StrategyPosition.closed_at.desc().nulls_last(), StrategyPosition.id)
            .offset(closed_paging.offset)
            .limit(closed_paging.size)
        )
    )
    sources = leg_sources(session, scope, active)
    return PositionList(
        [PositionRow(p, sources.legs(p, scope)) for p in active],
        active_paging,
        [PositionRow(p, []) for p in closed],
        closed_paging,
    )


@dataclass(frozen=True, slots=True)
class LegFunding:
    """Funding on one leg: what the entry quote predicted against what was paid, per the
    venue's own interval and normalised per hour."""

    venue: str
    side: str
    interval_hours: Decimal | None
    entry_rate: Decimal | None  # the venue's quote per interval when the position opened
    entry_quoted_at: datetime | None
    payments: int
    realised_usd: Decimal
    realised_rate: Decimal | None  # mean rate per interval over the payments received
    predicted_usd: Decimal | None  # what the entry rate pays over the same settlements

    def hourly(self, rate: Decimal | None) -> Decimal | None:
        if rate is None or not self.interval_hours:
            return None
        return rate / self.interval_hours


@dataclass(frozen=True, slots=True)
class Decision:
    at: datetime
    source: str
    action: str
    reason: str


@dataclass(frozen=True, slots=True)
class PositionDetail:
    row: PositionRow
    funding: list[LegFunding]
    decision: Decision | None
    orders: list[Order]
    events: list[Event]
    events_paging: Paging

    @property
    def realised_divergence(self) -> Decimal | None:
        """The realised hourly divergence (short leg minus long leg), as the entry's is."""
        by_side = {f.side: f.hourly(f.realised_rate) for f in self.funding}
        short, long = by_side.get("short"), by_side.get("long")
        if short is None or long is None:
            return None
        return short - long


_ENTRY_QUOTE = text(
    """
SELECT rate, interval_hours, observed_at FROM funding_rates
WHERE kind = 'predicted' AND venue = :venue AND symbol = :symbol AND observed_at <= :at
ORDER BY observed_at DESC LIMIT 1
"""
)


def position_detail(
    session: Session, scope: Scope, position_id: uuid.UUID, events_page: int = 1
) -> PositionDetail | None:
    position = session.get(StrategyPosition, position_id)
    if position is None:
        return None
    row = PositionRow(position, leg_sources(session, scope, [position]).legs(position, scope))
    paid = {
        venue: (count, total, mean, exposure)
        for venue, count, total, mean, exposure in session.execute(
            select(
                FundingPayment.venue,
                func.count(),
                func.sum(FundingPayment.amount_usd),
                func.avg(FundingPayment.rate),
                # What a rate of 1 per interval would have paid at each settlement's size.
                func.sum(-FundingPayment.position_qty * FundingPayment.mark_price),
            )
            .where(FundingPayment.position_id == position_id)
            .group_by(FundingPayment.venue)
        )
    }
    funding = [_leg_funding(session, position, leg, paid.get(leg.venue)) for leg in row.legs]
    decision_event = session.scalars(
        select(Event)
        .where(
            Event.entity_type == "position",
            Event.entity_id == str(position_id),
            Event.kind == "rebalance.decision",
        )
        .order_by(Event.id.desc())
        .limit(1)
    ).first()
    decision = None
    if decision_event is not None:
        payload: dict[str, Any] = decision_event.payload
        decision = Decision(
            decision_event.occurred_at,
            str(payload.get("source", "")),
            str(payload.get("action", "")),
            str(payload.get("reason", "")),
        )
    entity = (Event.entity_type == "position") & (Event.entity_id == str(position_id))
    total = int(session.scalar(select(func.count()).select_from(Event).where(entity)) or 0)
    events_paging = Paging(events_page, TIMELINE_PAGE_SIZE, total)
    events = list(
        session.scalars(
            select(Event)
            .where(entity)
            .order_by(Event.id.desc())
            .offset(events_paging.offset)
            .limit(events_paging.size)
        )
    )
    orders = list(
        session.scalars(
            select(Order).where(Order.position_id == position_id).order_by(Order.created_at)
        )
    )
    return PositionDetail(row, funding, decision, orders, events, events_paging)


def _leg_funding(
    session: Session,
    position: StrategyPosition,
    leg: LegView,
    paid: tuple[int, Decimal, Decimal, Decimal] | None,
) -> LegFunding:
    count, total, mean, exposure = paid if paid is not None else (0, Decimal(0), None, None)
    entry = None
    if position.opened_at is not None:
        entry = session.execute(
            _ENTRY_QUOTE, {"venue": leg.venue, "symbol": position.symbol, "at": position.opened_at}
        ).first()
    interval = entry.interval_hours if entry is not None else None
    if interval is None and leg.quote is not None:
        interval = leg.quote.interval_hours
    predicted = None
    if entry is not None and exposure is not None:
        # A long pays a positive rate, a short receives it: -qty * mark * rate per settlement,
        # here at the entry's rate and each settlement's own size and mark.
        predicted = entry.rate * exposure
    return LegFunding(
        leg.venue,
        leg.side,
        interval,
        entry.rate if entry is not None else None,
        entry.observed_at if entry is not None else None,
        count,
        total or Decimal(0),
        mean,
        predicted,
    )
