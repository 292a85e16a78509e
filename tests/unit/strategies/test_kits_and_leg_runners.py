"""The component kits (typed, lazy, shared parts) and how the legs of an order run."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest

from core.clock import ManualClock, SystemClock
from strategies.components.concurrency import SequentialLegRunner, ThreadedLegRunner
from strategies.components.kits import InMemoryKit, PostgresKit
from strategies.components.transfer_types import TransfersUnavailableError
from strategies.components.transfers_unavailable import UnavailableTransferManager
from strategies.factory import build_strategy, load_strategy_config
from strategies.implementations.funding_arbitrage.strategy import FundingArbitrageStrategy
from strategies.implementations.grid.strategy import GridStrategy
from tests.unit.funding_arbitrage.test_simulated_day import CONFIG as ARBITRAGE
from tests.unit.grid.test_config import VALID
from tests.unit.strategies.fakes import T0, FakeVenue

GRID = {**VALID, "name": "grid-1"}


def test_threaded_legs_run_at_the_same_time():
    both = threading.Barrier(2, timeout=5)  # passes only if the two calls overlap

    def leg(name: str) -> str:
        both.wait()
        return name

    assert ThreadedLegRunner().run({"L": lambda: leg("long"), "S": lambda: leg("short")}) == {
        "L": "long",
        "S": "short",
    }


def test_sequential_legs_run_in_order_and_errors_propagate():
    ran: list[str] = []
    result = SequentialLegRunner().run({"L": lambda: ran.append("L"), "S": lambda: ran.append("S")})
    assert ran == ["L", "S"] and list(result) == ["L", "S"]

    def broken() -> None:
        raise RuntimeError("venue down")

    for runner in (SequentialLegRunner(), ThreadedLegRunner()):
        with pytest.raises(RuntimeError, match="venue down"):
            runner.run({"L": broken})


def test_a_simulated_clock_runs_legs_one_after_the_other_a_real_one_in_threads():
    assert isinstance(InMemoryKit(ManualClock(T0)).leg_runner(), SequentialLegRunner)
    assert isinstance(InMemoryKit(SystemClock()).leg_runner(), ThreadedLegRunner)
    chosen = ThreadedLegRunner()
    assert InMemoryKit(ManualClock(T0), leg_runner=chosen).leg_runner() is chosen


def test_a_kit_without_a_transfer_manager_refuses_transfers():
    refused = "fund transfers are unavailable: no fund-transfer manager"
    with pytest.raises(TransfersUnavailableError, match=refused):
        InMemoryKit(ManualClock(T0)).transfers().request_transfer("a", "b", Decimal(1))


def test_the_transfer_manager_is_built_only_for_a_strategy_that_asks_for_it(engine):
    built: list[UnavailableTransferManager] = []

    def manager() -> UnavailableTransferManager:
        built.append(UnavailableTransferManager("test"))
        return built[-1]

    venues = {name: FakeVenue(name) for name in ("hyperliquid", "lighter")}
    kit = PostgresKit(engine, ManualClock(T0), venues, transfers=manager)
    assert isinstance(build_strategy(load_strategy_config(GRID), kit), GridStrategy)
    assert built == []
    arbitrage = build_strategy(load_strategy_config(ARBITRAGE), kit)
    assert isinstance(arbitrage, FundingArbitrageStrategy)
    assert arbitrage.components.transfers is built[0]
    assert kit.transfers() is built[0] and len(built) == 1
