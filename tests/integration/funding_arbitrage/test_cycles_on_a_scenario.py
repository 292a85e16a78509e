"""A day of hourly cycles of the example config on a generated four-venue scenario.

After every cycle: the result is ok, nothing is left half-done, and every venue position is
exactly a leg of an open position (no naked exposure, nothing foreign). At the end, the
funding recorded per leg adds up to what each venue's ledger booked as funding.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.enums import ACTIVE_POSITION_STATUSES, PositionStatus
from db.models import FundingPayment
from db.models.paper import PaperAccount, PaperLedgerEntry
from exchanges.scenarios import generate_scenario, store_ticks
from strategies.factory import load_strategy_config

from .conftest import START, Market
from .test_config_example import EXAMPLE, example_venues

HOURS = 24


def ledger_funding(market: Market, venue: str) -> Decimal:
    with Session(market.engine) as session:
        total = session.scalar(
            select(func.coalesce(func.sum(PaperLedgerEntry.amount), 0))
            .join(PaperAccount, PaperAccount.id == PaperLedgerEntry.account_id)
            .where(
                PaperAccount.venue == venue,
                PaperAccount.account == "arb",
                PaperLedgerEntry.kind == "funding",
            )
        )
    return Decimal(total)


def test_a_day_of_cycles_keeps_every_leg_hedged_and_funding_matches_the_ledgers(market: Market):
    config = load_strategy_config(EXAMPLE)
    venues = example_venues(market, config)
    ticks = generate_scenario(7, list(venues), config.symbols, START, HOURS)
    store_ticks(market.engine, ticks)
    strategy = market.strategy(config.model_dump(mode="json"), venues)
    strategy.start()
    opened = set()
    for hour in range(HOURS):
        market.clock.set(START + timedelta(hours=hour, minutes=5))
        market.collect()
        result = strategy.run_cycle(market.clock.now())
        assert result.ok, result.error
        active = strategy.position_manager.find_active(strategy.name)
        assert {p.status for p in active} <= {PositionStatus.OPEN}
        legs = {}
        for p in active:
            opened.add(p.id)
            legs[(p.long_dex, p.symbol)] = p.long_qty
            legs[(p.short_dex, p.symbol)] = -p.short_qty
        held = {
            (name, pos.symbol): pos.qty
            for name, client in venues.items()
            for pos in client.positions()
            if pos.qty != 0
        }
        assert held == legs, f"hour {hour}: venues hold {held}, positions say {legs}"
    assert opened, "the scenario should offer at least one opportunity"
    with Session(market.engine) as session:
        recorded = dict(
            session.execute(
                select(FundingPayment.venue, func.sum(FundingPayment.amount_usd)).group_by(
                    FundingPayment.venue
                )
            ).all()
        )
    positions = strategy.position_manager.find(strategy.name)
    assert any(p.funding_usd != 0 for p in positions)
    for name in venues:
        assert recorded.get(name, Decimal(0)) == ledger_funding(market, name), name
    for p in positions:
        if p.status not in ACTIVE_POSITION_STATUSES:
            continue
        assert p.long_funding_usd == sum(
            (
                f.amount_usd
                for f in strategy.components.funding_payments.for_position(p.id)
                if f.venue == p.long_dex
            ),
            Decimal(0),
        )
