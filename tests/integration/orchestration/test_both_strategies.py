"""Funding arbitrage and the grid together under a worker and (by mistake) two beats,
with every tick also delivered a second time: no duplicate orders, no overlapping phases,
and the venues hold exactly the exposure the database believes in."""

import itertools
import os
import time
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.enums import ACTIVE_POSITION_STATUSES
from core.settings import PROJECT_ROOT, get_settings
from db.models import Order, StrategyPosition, TaskRun
from db.models.paper import PaperAccount, PaperOrder, PaperPosition
from strategies.runtime import get_runtime, reset_runtime
from tests.support.celery_app import app
from tests.support.waiting import wait_until
from tests.support.workers import celery_beat, celery_worker

pytestmark = pytest.mark.slow

STRATEGY_TASKS = {"arb-demo": ("monitor", "rebalance", "open"), "grid-demo": ("cycle",)}


@pytest.fixture
def demo_world(clean_db, monkeypatch):
    """The demo's strategies, market and funded accounts, on the test database."""
    from cli.demo import _fund_accounts, _seed_market
    from funding_service.collector import FundingCollector
    from tasks.market_tasks import collection_venues

    origin = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    monkeypatch.setenv("PERPBOT_STRATEGIES", str(PROJECT_ROOT / "configs" / "demo"))
    monkeypatch.setenv("PERPBOT_CLOCK_ORIGIN", origin.isoformat())
    monkeypatch.setenv("PERPBOT_CLOCK_SPEED", "3600")
    monkeypatch.setenv("PERPBOT_CLOCK_REAL_START", repr(time.time()))
    monkeypatch.setenv("PERPBOT_FUNDING_COLLECT_SECONDS", "2")
    monkeypatch.setenv("PERPBOT_TRANSFERS_SWEEP_SECONDS", "3600")
    get_settings.cache_clear()
    reset_runtime()
    _seed_market(seed=11, origin=origin, hours=48)
    _fund_accounts()
    runtime = get_runtime()
    FundingCollector(
        {v: runtime.exchange(v) for v in collection_venues()}, runtime.clock, runtime.engine
    ).collect()
    yield clean_db
    get_settings.cache_clear()
    reset_runtime()


def _arbitrage_opened(engine) -> bool:
    with Session(engine) as session:
        opened = select(StrategyPosition.id).where(
            StrategyPosition.strategy_name == "arb-demo", StrategyPosition.status == "open"
        )
        return session.scalars(opened.limit(1)).first() is not None


def _running(engine) -> list[str]:
    with Session(engine) as session:
        query = select(TaskRun.strategy_name, TaskRun.phase).where(
            TaskRun.status == "running", TaskRun.strategy_name.in_(STRATEGY_TASKS)
        )
        return [f"{name} {phase}" for name, phase in session.execute(query)]


def test_both_strategies_two_beats_and_redelivered_ticks(demo_world, tmp_path):
    assert os.environ["PERPBOT_STRATEGIES"].endswith("demo")
    with celery_worker(concurrency=3):
        with (
            celery_beat(schedule_dir=tmp_path / "b1"),
            celery_beat(schedule_dir=tmp_path / "b2"),
        ):
            # At least 20 s of doubled ticks, and on until an arbitrage position is open.
            started = time.monotonic()
            while time.monotonic() - started < 20 or not _arbitrage_opened(demo_world):
                assert time.monotonic() - started < 120, "no arbitrage position opened"
                for name, phases in STRATEGY_TASKS.items():  # every tick a second time
                    for phase in phases:
                        app.send_task(f"perpbot.strategy.{phase}", args=(name,))
                time.sleep(2)  # the pace of the duplicates, not a wait for a result
        # The phases in flight finish before the worker stops.
        wait_until(
            lambda: not _running(demo_world),
            timeout=60,
            message=lambda: f"still running: {_running(demo_world)}",
        )

    with Session(demo_world) as session:
        runs = session.scalars(select(TaskRun).where(TaskRun.status == "succeeded")).all()
        journal = {o.client_order_id for o in session.scalars(select(Order))}
        venue_orders = session.execute(select(PaperOrder.client_order_id)).scalars().all()
        positions = session.scalars(
            select(StrategyPosition).where(StrategyPosition.strategy_name == "arb-demo")
        ).all()
        venue_positions = session.execute(
            select(PaperPosition.venue, PaperPosition.symbol, PaperPosition.qty)
            .join(PaperAccount, PaperAccount.id == PaperPosition.account_id)
            .where(PaperAccount.account == "arb")
        ).all()

    by_strategy = defaultdict(list)
    for run in runs:
        by_strategy[run.strategy_name].append(run)
    assert set(by_strategy) >= {"arb-demo", "grid-demo"}
    for name, strategy_runs in by_strategy.items():
        strategy_runs.sort(key=lambda r: r.started_at)
        for earlier, later in itertools.pairwise(strategy_runs):
            assert later.started_at >= earlier.finished_at, (name, earlier.phase, later.phase)

    # No order reached a venue without its intent in the journal, and none twice.
    assert len(venue_orders) == len(set(venue_orders))
    assert set(venue_orders) <= journal
    assert any(p.status == "open" for p in positions)

    # What the venues hold is exactly what the open arbitrage positions say.
    expected: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for p in positions:
        if p.status in ACTIVE_POSITION_STATUSES:
            expected[(p.long_dex, p.symbol)] += p.long_qty
            expected[(p.short_dex, p.symbol)] -= p.short_qty
    held = {(v, s): q for v, s, q in venue_positions if q != 0}
    assert held == {k: q for k, q in expected.items() if q != 0}
