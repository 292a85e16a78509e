"""A funding-arbitrage monitor tick with 50 open positions, as a Celery task, against a no-op
task on the same broker and worker, in the same run.

Set-up: a throwaway database, a scenario on four paper venues for 60 symbols, funded
accounts, and 50 hedged positions opened on the paper venues (both legs really held; the
bench fails rather than measure fewer), then one worker (concurrency 1). Measured: the
round trip (send -> result) of `monitor` and of `perpbot.health.noop`, sequentially
(latency) and as a burst (throughput), plus the same monitor called in-process (what the
tick costs without Celery) and the SQL statements and commits of one pass.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench import scratch_database, summary_ms

if TYPE_CHECKING:  # for annotations only: like its other imports, these happen in run()
    from strategies.implementations.funding_arbitrage.strategy import FundingArbitrageStrategy
    from strategies.runtime import Runtime

VENUES = ("hyperliquid", "lighter", "extended", "paradex")
# Each position uses two of the four venues and a venue holds one leg per symbol: two
# positions per symbol at most, but a second pair of the same symbol is rarely profitable
# (on 26 symbols the ranking and risk rules stopped at 29). With 60 symbols the best pair
# of each is enough.
SYMBOLS = tuple(f"B{i:02d}" for i in range(60))
POSITIONS = 50
SAMPLES = 25
TARGET_RATIO = 2.0


def _config(path: Path) -> None:
    venues = "\n".join(f"  - {{name: {v}, account: arb}}" for v in VENUES)
    path.write_text(f"""type: funding_arbitrage
name: bench-arb
venues:
{venues}
symbols: [{", ".join(SYMBOLS)}]
sizing: {{position_size_usd: 200, leverage: 3}}
horizon_hours: 72
entry: {{min_apr: 0.0001, max_breakeven_hours: 100000, max_rate_age_seconds: 86400}}
risk: {{max_position_usd: 1000, max_total_exposure_usd: 100000, max_positions: {POSITIONS},
        max_leverage: 10, min_liquidation_distance: 0.05}}
rebalance: {{type: time_based, max_hold_hours: 100000}}
intervals: {{monitor_seconds: 3600, rebalance_seconds: 3600, open_seconds: 3600}}
""")


def _arbitrage(runtime: Runtime) -> FundingArbitrageStrategy:
    """The benchmark's strategy, typed as what its config builds."""
    from strategies.implementations.funding_arbitrage.strategy import FundingArbitrageStrategy

    strategy = runtime.build("bench-arb")
    if not isinstance(strategy, FundingArbitrageStrategy):
        raise TypeError(f"bench-arb built a {type(strategy).__name__}, not funding arbitrage")
    return strategy


def _open_positions() -> int:
    """Open positions through the strategy itself (journal, hedged legs) until 50 are open."""
    from strategies.runtime import get_runtime

    runtime = get_runtime()
    strategy = _arbitrage(runtime)
    held = 0
    for _ in range(20):
        strategy.open_positions(runtime.clock.now())
        before, held = held, len(strategy.position_manager.find_active("bench-arb"))
        if held >= POSITIONS or held == before:
            break
    if held < POSITIONS:
        raise RuntimeError(
            f"the bench asks for {POSITIONS} open positions and its strategy opened {held}: "
            "give the bench config more symbols or capital"
        )
    return held


def _monitor_statements(runtime: Runtime) -> tuple[int, int]:
    """SQL statements and commits of one in-process monitor pass (where its time goes)."""
    from sqlalchemy import event

    counts = {"statements": 0, "commits": 0}

    def statement(*args: object) -> None:
        counts["statements"] += 1

    def commit(*args: object) -> None:
        counts["commits"] += 1

    event.listen(runtime.engine, "before_cursor_execute", statement)
    event.listen(runtime.engine, "commit", commit)
    try:
        _arbitrage(runtime).monitor(runtime.clock.now())
    finally:
        event.remove(runtime.engine, "before_cursor_execute", statement)
        event.remove(runtime.engine, "commit", commit)
    return counts["statements"], counts["commits"]


def _round_trips(app: Any, task: str, args: tuple[Any, ...]) -> tuple[list[float], float]:
    latencies = []
    for _ in range(SAMPLES):
        start = time.perf_counter()
        app.send_task(task, args=args).get(timeout=120)
        latencies.append(time.perf_counter() - start)
    start = time.perf_counter()
    results = [app.send_task(task, args=args) for _ in range(SAMPLES)]
    for result in results:
        result.get(timeout=300)
    throughput = SAMPLES / (time.perf_counter() - start)
    return latencies, throughput


def _client_app() -> Any:
    """A Celery client on this run's broker prefix (the `tasks` app may be configured already)."""
    from celery import Celery

    import celeryconfig
    from core.settings import get_settings

    settings = get_settings()
    prefix = {"global_keyprefix": settings.broker_key_prefix}
    client = Celery(
        "bench", broker=settings.celery_broker_url, backend=settings.celery_result_backend
    )
    client.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        broker_transport_options=prefix,
        result_backend_transport_options=prefix,
        task_queues=celeryconfig.task_queues,
        task_routes=celeryconfig.task_routes,
        task_default_queue="default",
        task_default_exchange="perpbot",
        task_default_routing_key="default",
    )
    return client


def run() -> dict[str, Any]:
    import tempfile

    from cli.demo import _fund_accounts, _seed_market
    from core.settings import get_settings
    from funding_service.collector import FundingCollector
    from strategies.runtime import get_runtime, reset_runtime
    from tests.support.workers import celery_worker

    saved = dict(os.environ)
    rows: list[dict[str, Any]] = []
    try:
        with scratch_database() as url, tempfile.TemporaryDirectory() as tmp:
            origin = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
            _config(Path(tmp) / "bench.yaml")
            os.environ.update(
                {
                    "DATABASE_URL": url,
                    "PERPBOT_STRATEGIES": tmp,
                    "PERPBOT_BROKER_PREFIX": f"bench-{os.getpid()}:",
                    "PERPBOT_CLOCK_ORIGIN": (origin + timedelta(hours=2)).isoformat(),
                    "PERPBOT_CLOCK_SPEED": "1",
                    "PERPBOT_CLOCK_REAL_START": repr(time.time()),
                }
            )
            get_settings.cache_clear()
            reset_runtime()
            app = _client_app()
            _seed_market(seed=3, origin=origin, hours=24)
            _fund_accounts(Decimal(100_000))
            runtime = get_runtime()
            FundingCollector(
                {v: runtime.exchange(v) for v in VENUES}, runtime.clock, runtime.engine
            ).collect()
            held = _open_positions()

            statements, commits = _monitor_statements(runtime)
            inproc = []
            for _ in range(SAMPLES):
                start = time.perf_counter()
                _arbitrage(runtime).monitor(runtime.clock.now())
                inproc.append(time.perf_counter() - start)
            with celery_worker(app="tasks", concurrency=1):
                noop, noop_tp = _round_trips(app, "perpbot.health.noop", ())
                tick, tick_tp = _round_trips(app, "perpbot.strategy.monitor", ("bench-arb",))
    finally:
        os.environ.clear()
        os.environ.update(saved)
        get_settings.cache_clear()
        reset_runtime()

    for case, samples, throughput in (
        ("no-op task", noop, noop_tp),
        (f"monitor task, {held} positions", tick, tick_tp),
        (f"monitor in-process, {held} positions", inproc, None),
    ):
        row: dict[str, Any] = {"case": case, **summary_ms(samples)}
        row["tasks_per_s_per_worker"] = round(throughput, 1) if throughput else "-"
        rows.append(row)
    ratio = rows[1]["p50_ms"] / rows[0]["p50_ms"]
    overhead = rows[1]["p50_ms"] - rows[2]["p50_ms"]
    for row in rows:
        row["positions_open"] = held if "monitor" in row["case"] else "-"
    rows[1].update(target=f"<= {TARGET_RATIO} x no-op", met=ratio <= TARGET_RATIO)
    return {
        "name": "strategy_tick",
        "title": f"Strategy tick as a Celery task vs a no-op task ({SAMPLES} samples each)",
        "rows": rows,
        "target": f"monitor task p50 <= {TARGET_RATIO}x the no-op task p50",
        "met": ratio <= TARGET_RATIO,
        "notes": [
            f"open positions during the measurement: {held} (the strategy opened what its "
            f"ranking and risk rules allowed of the {POSITIONS} asked for)",
            f"ratio monitor/no-op (p50): {ratio:.1f}x",
            f"Celery's share of the monitor task (task p50 - in-process p50): {overhead:.1f} ms",
            f"one monitor pass with {held} positions: {statements} SQL statements, {commits} "
            "commits (per-position reads, updates and events: what set-based ticks remove)",
        ],
    }
