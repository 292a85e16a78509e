"""The grid as the body of the Celery cycle task: a real worker, Redis and PostgreSQL.

The worker builds a fresh strategy for every task from the config directory, on a clock
shared through the environment (simulated time 600 times faster than real time). Each mark
of the price path is stored a simulated second ahead of the clock, so the path is played in
order however fast or slow the worker is, and the result is the hand-computed one of
test_grid_trading.py.
"""

from __future__ import annotations

import textwrap
import time
from datetime import timedelta
from decimal import Decimal

import pytest

from core.clock import ScaledClock
from exchanges.paper import PaperExchange
from exchanges.scenarios import store_ticks
from exchanges.simulation.market import Tick
from strategies.implementations.grid.models import GridState
from strategies.runtime import get_runtime, reset_runtime
from tests.integration.grid.conftest import ACCOUNT, START, SYMBOL, VENUE
from tests.support.celery_app import app
from tests.support.workers import celery_worker

pytestmark = pytest.mark.slow

SPEED = 600.0
CONFIG = """
    type: grid
    name: grid-eth
    venue: hyperliquid
    account: grid
    symbol: ETH
    direction: long
    order_qty: 0.1
    take_profit_pct: 1
    max_orders: 5
    wait_time_seconds: 0
    open_timeout_seconds: 604800
    intervals: {cycle_seconds: 1}
"""


@pytest.fixture
def shared_clock(tmp_path, monkeypatch, clean_db):
    directory = tmp_path / "strategies"
    directory.mkdir()
    (directory / "grid.yaml").write_text(textwrap.dedent(CONFIG))
    real_start = time.time()
    for key, value in {
        "PERPBOT_STRATEGIES": str(directory),
        "PERPBOT_CLOCK_ORIGIN": START.isoformat(),
        "PERPBOT_CLOCK_SPEED": str(SPEED),
        "PERPBOT_CLOCK_REAL_START": repr(real_start),
        "PERPBOT_FUNDING_COLLECT_SECONDS": "3600",
        "PERPBOT_TRANSFERS_SWEEP_SECONDS": "3600",
    }.items():
        monkeypatch.setenv(key, value)
    from core.settings import get_settings

    get_settings.cache_clear()
    reset_runtime()
    yield ScaledClock(START, real_start, SPEED)
    get_settings.cache_clear()
    reset_runtime()


def _play(engine, clock: ScaledClock, mark: int) -> None:
    """Store `mark` a simulated second from now and wait until the clock has passed it."""
    at = clock.now() + timedelta(seconds=1)
    store_ticks(engine, [Tick(VENUE, SYMBOL, at, Decimal(mark), Decimal(0), Decimal(1))])
    while clock.now() <= at:
        time.sleep(0.002)


def test_worker_runs_grid_cycles_with_the_hand_computed_result(shared_clock, clean_db):
    venue = PaperExchange(VENUE, engine=clean_db, clock=shared_clock, account=ACCOUNT)
    venue.credit_deposit("seed-grid", "USDC", Decimal(100_000), "arbitrum")
    with celery_worker(concurrency=2):
        for mark in (3000, 2990, 2980, 3030, 2970, 3010):
            _play(clean_db, shared_clock, mark)
            # A duplicated delivery of each tick: the lock (the copy that finds it taken is
            # deferred and run by the holder after its own cycle) and the state make it
            # harmless.
            first, second = (
                app.send_task("perpbot.strategy.cycle", args=("grid-eth",)) for _ in range(2)
            )
            results = [first.get(timeout=60), second.get(timeout=60)]
            assert all(r["skipped"] or r.get("deferred") or r["ok"] for r in results), results
            assert any(not r["skipped"] and not r.get("deferred") for r in results), results
    runtime = get_runtime()
    stored = runtime.build("grid-eth").components.state.load("grid-eth")
    state = GridState.from_state(stored.data)
    assert (state.totals.take_profits, state.totals.realized_pnl) == (3, Decimal("8.6995815"))
    orders = [o.client_order_id for o in venue.open_orders(SYMBOL)]
    assert orders == [f"grid-{state.run_id}-4-o0"]
