"""A grid on the paper venue: real PostgreSQL, a manual clock, hand-made price paths.

Every cycle builds a fresh strategy from the factory, as a beat-fired Celery task does, so
nothing can survive between cycles except what is in the database.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from core.clock import ManualClock
from db.models.paper import PaperAccount, PaperOrder
from exchanges.base import Position
from exchanges.paper import PaperExchange, PaperVenueConfig
from exchanges.scenarios import store_ticks
from exchanges.simulation.market import Tick
from strategies.base_strategy import CycleResult
from strategies.components.base_components import OrderRecord
from strategies.components.kits import PostgresKit
from strategies.factory import build_strategy, load_strategy_config
from strategies.implementations.grid.models import GridState
from strategies.implementations.grid.strategy import GridStrategy

START = datetime(2026, 3, 2, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
VENUE = "hyperliquid"  # maker fee 0.00015, taker fee 0.00045
SYMBOL = "ETH"  # tick 0.01, quantity step 0.01
ACCOUNT = "grid"
MAKER = Decimal("0.00015")
TAKER = Decimal("0.00045")

BASE_CONFIG: dict[str, Any] = {
    "type": "grid",
    "name": "grid-eth",
    "venue": VENUE,
    "account": ACCOUNT,
    "symbol": SYMBOL,
    "direction": "long",
    "order_qty": "0.1",
    "take_profit_pct": "1",
    "max_orders": 5,
    "wait_time_seconds": 0,
    "open_timeout_seconds": 3600,
}


def at(minute: int) -> datetime:
    return START + MINUTE * minute


@dataclass
class GridHarness:
    engine: Engine
    clock: ManualClock
    config: dict[str, Any]
    venue: PaperExchange
    results: list[CycleResult] = field(default_factory=list)

    def marks(self, *marks: str | int, first_minute: int = 0) -> None:
        """One tick per minute from `first_minute`, funding rate zero."""
        store_ticks(
            self.engine,
            [
                Tick(VENUE, SYMBOL, at(first_minute + i), Decimal(str(m)), Decimal(0), Decimal(1))
                for i, m in enumerate(marks)
            ],
        )

    def components(self) -> PostgresKit:
        return PostgresKit(self.engine, self.clock, {VENUE: self.venue})

    def build(self) -> GridStrategy:
        strategy = build_strategy(load_strategy_config(self.config), self.components())
        assert isinstance(strategy, GridStrategy)
        return strategy

    def cycle(self, minute: int, second: int = 30) -> CycleResult:
        """Run one cycle at `minute`:`second` in a fresh strategy; it must succeed."""
        now = at(minute) + timedelta(seconds=second)
        if self.clock.now() < now:
            self.clock.set(now)
        result = self.build().run_cycle(now)
        assert result.ok, result.error
        self.results.append(result)
        return result

    def state(self) -> GridState:
        stored = self.components().state().load(self.config["name"])
        return GridState.from_state(stored.data)

    def journal(self) -> list[OrderRecord]:
        return self.components().orders().journal.find(self.config["name"])

    def venue_orders(self) -> list[PaperOrder]:
        """Every order the venue ever accepted on the grid's account, oldest first."""
        with Session(self.engine) as session:
            return list(
                session.scalars(
                    select(PaperOrder)
                    .join(PaperAccount, PaperAccount.id == PaperOrder.account_id)
                    .where(PaperAccount.venue == VENUE, PaperAccount.account == ACCOUNT)
                    .order_by(PaperOrder.placed_at, PaperOrder.client_order_id)
                )
            )

    def position(self) -> Position | None:
        return next((p for p in self.venue.positions() if p.symbol == SYMBOL), None)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def make_grid(clean_db: Engine, clock: ManualClock) -> Iterator[Any]:
    def make(**overrides: Any) -> GridHarness:
        venue = PaperExchange(
            VENUE, engine=clean_db, clock=clock, account=ACCOUNT, config=PaperVenueConfig()
        )
        venue.credit_deposit("seed-grid", "USDC", Decimal(100_000), "arbitrum")
        return GridHarness(clean_db, clock, {**BASE_CONFIG, **overrides}, venue)

    yield make
