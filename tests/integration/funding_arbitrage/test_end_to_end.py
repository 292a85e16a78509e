"""End to end on two paper venues: open the best pair hedged, collect funding on both legs
for hours (checked against a hand computation), close when the divergence flips."""

from __future__ import annotations

import json
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.enums import PositionStatus
from db.models import FundingPayment
from strategies.implementations.funding_arbitrage.models import PositionMonitored

from .conftest import START, D, Market

HOURS = 10
MARKS = [D(3000) + D(10) * h for h in range(HOURS)]
LIGHTER = [D("0.00001")] * HOURS  # long here: pays 1e-5 of notional per hour
HYPER = [D("0.00005")] * 7 + [D("-0.00002")] * (HOURS - 7)  # short here; flips at 07:00
HL_TAKER = D("0.00045")


def setup(market: Market) -> None:
    market.ticks("lighter", "ETH", MARKS, LIGHTER)
    market.ticks("hyperliquid", "ETH", MARKS, HYPER)
    market.venue("lighter")
    market.venue("hyperliquid")


def test_best_pair_is_opened_hedged_funding_collected_then_closed_on_flip(market: Market):
    setup(market)
    strategy = market.strategy()
    market.collect()
    opened = strategy.open_positions(market.clock.now())
    assert opened.ok, opened.error
    [position] = strategy.position_manager.find("arb")
    assert position.status is PositionStatus.OPEN
    assert (position.long_dex, position.short_dex) == ("lighter", "hyperliquid")
    assert position.long_qty == position.short_qty == D(1)  # 3000 USD / 3000
    assert position.long_entry_price == position.short_entry_price == D(3000)
    assert position.fees_usd == D(3000) * HL_TAKER  # lighter charges no taker fee
    assert position.entry_divergence == D("0.00004")
    assert (market.held("lighter"), market.held("hyperliquid")) == (D(1), D(-1))

    for hour in range(1, 7):
        market.advance_to(hour)
        market.collect()
        monitored = strategy.monitor(market.clock.now())
        assert monitored.ok, monitored.error
        assert strategy.rebalance(market.clock.now()).ok
    position = strategy.position_manager.get(position.id)
    assert position.status is PositionStatus.OPEN
    # Funding at 01:00 .. 06:00 (not 00:00: the position was opened then), on 1 ETH at
    # each hour's mark: the short receives 5e-5, the long pays 1e-5 of the notional.
    expected_short = sum(MARKS[h] * D("0.00005") for h in range(1, 7))
    expected_long = -sum(MARKS[h] * D("0.00001") for h in range(1, 7))
    assert position.short_funding_usd == expected_short
    assert position.long_funding_usd == expected_long
    [last] = [a for a in monitored.actions if isinstance(a, PositionMonitored)]
    assert last.new_payments == 2 and last.divergence_hourly == D("0.00004")

    market.advance_to(7)
    market.collect()
    assert strategy.monitor(market.clock.now()).ok
    rebalanced = strategy.rebalance(market.clock.now())
    assert rebalanced.ok, rebalanced.error
    [outcome] = rebalanced.actions
    json.dumps(rebalanced.to_json())  # what a Celery task returns must be plain JSON
    json.dumps(opened.to_json())
    json.dumps(monitored.to_json())
    assert outcome.decision.action.value == "close"
    assert outcome.decision.source == "divergence_flip"

    closed = strategy.position_manager.get(position.id)
    assert closed.status is PositionStatus.CLOSED
    assert (market.held("lighter"), market.held("hyperliquid")) == (D(0), D(0))
    # 07:00 funding was settled before the close (funding first, then the orders at 07:00):
    # the short now pays 2e-5.
    expected_short += MARKS[7] * D("-0.00002")
    expected_long -= MARKS[7] * D("0.00001")
    assert closed.short_funding_usd == expected_short
    assert closed.long_funding_usd == expected_long
    fees = (MARKS[0] + MARKS[7]) * HL_TAKER
    assert closed.fees_usd == fees
    # Price moved +70 on both legs: the long gained what the short lost.
    assert closed.realized_pnl_usd == expected_short + expected_long - fees
    with Session(market.engine) as session:
        payments = session.scalars(select(FundingPayment)).all()
    assert len(payments) == 14  # 7 funding times x 2 legs, each once
    # What the venue paid on: the signed quantity held, the mark and rate of each hour.
    assert {(p.venue, p.position_qty) for p in payments} == {
        ("lighter", D(1)),
        ("hyperliquid", D(-1)),
    }
    for p in payments:
        hour = int((p.funding_time - START).total_seconds() // 3600)
        assert p.mark_price == MARKS[hour]
        assert p.rate == (LIGHTER if p.venue == "lighter" else HYPER)[hour]
        assert p.amount_usd == -p.position_qty * p.mark_price * p.rate
    by_venue: dict[str, Decimal] = {}
    for p in payments:
        by_venue[p.venue] = by_venue.get(p.venue, D(0)) + p.amount_usd
    assert by_venue == {"lighter": expected_long, "hyperliquid": expected_short}
    assert market.venue_orders("lighter") == market.venue_orders("hyperliquid") == 2
    assert [e.payload["action"] for e in market.events("rebalance.decision")] == ["close"]
