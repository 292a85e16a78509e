"""Funding arbitrage on paper venues in the test database, on a manual clock.

`Market` stores hand-made hourly ticks per (venue, symbol), builds paper venue accounts
without slippage (fills at the mark, so every number can be computed by hand), collects
funding rates into `funding_rates` the way the beat task does, and builds the strategy
through the factory with the PostgreSQL components. Its transfer manager moves no money
(`UnavailableTransferManager`, as in live mode): transfer needs are only recorded, unless a
test injects a paper manager.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from core.clock import ManualClock
from db.models import Event, Order
from db.models.paper import PaperOrder
from exchanges.base import ExchangeClient
from exchanges.paper import PaperExchange, PaperVenueConfig
from exchanges.scenarios import store_ticks
from exchanges.simulation.market import Tick
from funding_service.collector import FundingCollector
from strategies.components.kits import PostgresKit
from strategies.components.transfers_unavailable import UnavailableTransferManager
from strategies.factory import build_strategy, load_strategy_config
from strategies.implementations.funding_arbitrage.strategy import FundingArbitrageStrategy

D = Decimal
START = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday, 00:00 UTC: a funding time everywhere
NO_SLIP = {"slippage_bps": D(0), "impact_bps_per_million": D(0)}
NO_TRANSFERS = UnavailableTransferManager("these tests move no money between venues")


def base_config(**overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "type": "funding_arbitrage",
        "name": "arb",
        "venues": [{"name": "lighter"}, {"name": "hyperliquid"}],
        "symbols": ["ETH"],
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
        "rebalance": {"type": "divergence_flip"},
        "execution": {
            "max_leg_skew_seconds": 1,
            "unwind_timeout_seconds": 2,
            "retry_interval_seconds": 0.01,
        },
    }
    config.update(overrides)
    return config


class Market:
    def __init__(self, engine: Engine, clock: ManualClock) -> None:
        self.engine = engine
        self.clock = clock
        self.venues: dict[str, ExchangeClient] = {}

    def ticks(
        self,
        venue: str,
        symbol: str,
        marks: Sequence[Decimal | str | int],
        hourly_rates: Sequence[Decimal | str],
        interval: int = 1,
    ) -> None:
        """One tick per hour from START; rates are given per hour and quoted per interval."""
        store_ticks(
            self.engine,
            [
                Tick(
                    venue,
                    symbol,
                    START + timedelta(hours=i),
                    D(str(mark)),
                    D(str(rate)) * interval,
                    D(interval),
                )
                for i, (mark, rate) in enumerate(zip(marks, hourly_rates, strict=True))
            ],
        )

    def venue(
        self, name: str, deposit: int = 10_000, account: str = "main", **config: Any
    ) -> PaperExchange:
        settings = {**NO_SLIP, "leverage": D(3), **config}
        exchange = PaperExchange(
            name,
            engine=self.engine,
            clock=self.clock,
            account=account,
            config=PaperVenueConfig(**settings),
        )
        if deposit:
            exchange.credit_deposit(f"seed-{name}-{account}", "USDC", D(deposit), "arbitrum")
        self.venues[name] = exchange
        return exchange

    def collect(self) -> None:
        FundingCollector(self.venues, self.clock, self.engine).collect()

    def strategy(
        self, config: dict[str, Any] | None = None, venues: dict[str, ExchangeClient] | None = None
    ) -> FundingArbitrageStrategy:
        validated = load_strategy_config(config or base_config())
        kit = PostgresKit(
            self.engine, self.clock, venues or self.venues, transfers=lambda: NO_TRANSFERS
        )
        strategy = build_strategy(validated, kit)
        assert isinstance(strategy, FundingArbitrageStrategy)
        return strategy

    def advance_to(self, hours: float) -> datetime:
        self.clock.set(START + timedelta(hours=hours))
        return self.clock.now()

    # ---------------------------------------------------------------- reading back

    def venue_orders(self, venue: str) -> int:
        with Session(self.engine) as session:
            return session.scalar(
                select(func.count()).select_from(PaperOrder).where(PaperOrder.venue == venue)
            )

    def journal(self) -> list[Order]:
        with Session(self.engine) as session:
            return list(session.scalars(select(Order).order_by(Order.created_at)))

    def events(self, kind: str) -> list[Event]:
        with Session(self.engine) as session:
            return list(session.scalars(select(Event).where(Event.kind == kind).order_by(Event.id)))

    def held(self, venue: str, symbol: str = "ETH") -> Decimal:
        for position in self.venues[venue].positions():
            if position.symbol == symbol:
                return position.qty
        return D(0)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def market(clean_db: Engine, clock: ManualClock) -> Iterator[Market]:
    yield Market(clean_db, clock)
