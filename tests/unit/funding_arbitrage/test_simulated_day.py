"""A simulated day of funding arbitrage on in-memory parts: no PostgreSQL, Redis or Celery.

Two small in-memory venues (`tests/support/sim_venue.py`), the in-memory components and a
`ManualClock`; one `run_cycle` per hour. The day: ETH opens at 00:00 (35 % APR of
divergence), funding is settled on both legs every hour, at 06:00 ETH's edge is gone and SOL
pays far more, so `better_opportunity` switches; at 18:00 SOL's divergence flips and
`divergence_flip` closes. Every number is checked against a hand computation.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, text

from core.clock import ManualClock
from core.enums import PositionStatus
from strategies.components.funding_rates import InMemoryFundingRateSource
from strategies.components.kits import InMemoryKit
from strategies.factory import build_strategy, load_strategy_config
from strategies.implementations.funding_arbitrage.decisions import Close, Switch
from strategies.implementations.funding_arbitrage.outcomes import RebalanceOutcome
from strategies.implementations.funding_arbitrage.strategy import FundingArbitrageStrategy
from tests.support.isolation import ExternalServiceUsedError, no_external_services
from tests.support.sim_venue import MarketPoint, SimVenue

D = Decimal
START = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday, 00:00 UTC
HOURS = 24
HL_TAKER = D("0.00045")  # hyperliquid's taker fee; lighter charges none
ETH_MARK = [D(3000) + 10 * h for h in range(HOURS)]
# Hourly funding rates. ETH earns 4e-5 an hour until 06:00, then nothing; SOL earns 1.9e-4
# from 06:00 and flips to -1e-5 at 18:00 (too little the other way round to open reversed).
LIGHTER_RATE = D("0.00001")
HL_ETH = [D("0.00005") if h < 6 else D("0.00001") for h in range(HOURS)]
HL_SOL = [D("0.00001") if h < 6 else D("0.0002") if h < 18 else D(0) for h in range(HOURS)]
SOL_MARK = D(150)

CONFIG = {
    "type": "funding_arbitrage",
    "name": "arb",
    "venues": [{"name": "lighter"}, {"name": "hyperliquid"}],
    "symbols": ["ETH", "SOL"],
    "sizing": {"position_size_usd": "3000", "leverage": "3"},
    "horizon_hours": "168",
    "entry": {"min_apr": "0.10", "max_breakeven_hours": "48", "max_rate_age_seconds": 7200},
    "risk": {
        "max_position_usd": "5000",
        "max_total_exposure_usd": "10000",
        "max_positions": 3,
        "max_leverage": "5",
        "min_liquidation_distance": "0.10",
    },
    "rebalance": {
        "type": "combined",
        "policies": [
            {"type": "divergence_flip", "flip_margin_apr": "0.02"},
            {"type": "better_opportunity", "min_gain_usd": "10"},
        ],
    },
    "execution": {"max_leg_skew_seconds": 1, "unwind_timeout_seconds": 2},
}


def at(hour: int) -> datetime:
    return START + timedelta(hours=hour)


def venues(clock: ManualClock) -> dict[str, SimVenue]:
    lighter = SimVenue("lighter", clock, deposit=D(10_000), taker_fee=D(0))
    hyperliquid = SimVenue("hyperliquid", clock, deposit=D(10_000), taker_fee=HL_TAKER)
    flat = [LIGHTER_RATE] * HOURS
    for venue, eth, sol in ((lighter, flat, flat), (hyperliquid, HL_ETH, HL_SOL)):
        venue.quote("ETH", [MarketPoint(at(h), ETH_MARK[h], eth[h]) for h in range(HOURS)])
        venue.quote("SOL", [MarketPoint(at(h), SOL_MARK, sol[h]) for h in range(HOURS)])
    return {lighter.name: lighter, hyperliquid.name: hyperliquid}


@pytest.fixture
def isolated(monkeypatch: pytest.MonkeyPatch):
    with no_external_services(monkeypatch):
        yield


def test_the_guard_refuses_a_database_connection(engine: Engine, monkeypatch):
    with (
        no_external_services(monkeypatch),
        pytest.raises(ExternalServiceUsedError),
        engine.connect() as connection,
    ):
        connection.execute(text("SELECT 1"))


def test_a_simulated_day_opens_collects_funding_switches_and_closes(isolated):
    started = time.perf_counter()
    clock = ManualClock(START)
    clients = venues(clock)
    rates = InMemoryFundingRateSource()
    kit = InMemoryKit(clock, clients, funding_rates=rates)
    assert not hasattr(kit, "engine")  # nothing in it could reach a database
    strategy = build_strategy(load_strategy_config(CONFIG), kit)
    assert isinstance(strategy, FundingArbitrageStrategy)
    strategy.start()
    decided = []
    for hour in range(HOURS):
        clock.set(max(clock.now(), at(hour)))
        for client in clients.values():
            rates.add(client.funding_rates())
        result = strategy.run_cycle(clock.now())
        assert result.ok, result.error
        decided += [
            (hour, type(a.decision))
            for a in result.actions
            if isinstance(a, RebalanceOutcome) and a.decision.fired
        ]
    elapsed = time.perf_counter() - started

    assert decided == [(6, Switch), (18, Close)]
    eth, sol = strategy.position_manager.find("arb")
    assert (eth.symbol, sol.symbol) == ("ETH", "SOL")
    assert eth.status is sol.status is PositionStatus.CLOSED
    assert eth.close_reason.startswith("better_opportunity: SOL long lighter short hyperliquid")
    assert sol.close_reason.startswith("divergence_flip: divergence")

    # ETH: 1 ETH a leg, 00:00 -> 06:00. The price rose 60 on both legs (trading PnL 0);
    # hyperliquid's fees on 3000 and 3060; funding 01:00..05:00 at 4e-5 net of the mark,
    # and at 06:00 both legs' rates are equal (net 0).
    eth_fees = (ETH_MARK[0] + ETH_MARK[6]) * HL_TAKER
    eth_funding = sum(ETH_MARK[h] * (HL_ETH[h] - LIGHTER_RATE) for h in range(1, 7))
    assert eth.fees_usd == eth_fees
    assert eth.funding_usd == eth_funding
    assert eth.realized_pnl_usd == eth_funding - eth_fees
    # SOL: 20 SOL a leg (3000 USD at 150), 06:00 -> 18:00 at a flat price: fees on 3000
    # twice; funding 07:00..18:00 (18:00 is settled before the close, and already flipped).
    sol_fees = 2 * 20 * SOL_MARK * HL_TAKER
    sol_funding = sum(20 * SOL_MARK * (HL_SOL[h] - LIGHTER_RATE) for h in range(7, 19))
    assert sol.fees_usd == sol_fees
    assert sol.funding_usd == sol_funding
    assert sol.realized_pnl_usd == sol_funding - sol_fees

    for client in clients.values():
        assert client.positions() == []
    # What the venues booked agrees: every fill, fee and funding payment adds up to the
    # strategy's realized PnL.
    booked = sum(
        (
            (f.qty * f.price if f.side.value == "sell" else -f.qty * f.price) - f.fee
            for client in clients.values()
            for f in client.fills
        ),
        D(0),
    ) + sum((p.amount for client in clients.values() for p in client.funding), D(0))
    assert booked == eth.realized_pnl_usd + sol.realized_pnl_usd
    assert sum((c.cash for c in clients.values()), D(0)) == D(20_000) + booked
    assert elapsed < 2, f"a simulated day took {elapsed:.2f} s of wall time"
