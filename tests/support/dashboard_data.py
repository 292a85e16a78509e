"""A database with what the dashboard shows, written by the real system: the demo's
strategies trade on paper venues for some simulated hours (in-process, on a manual clock
ending shortly before the wall clock), a fund transfer is requested, phase tasks run."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Engine, text

import db.models
from core.clock import ManualClock
from exchanges.scenarios import generate_scenario, store_ticks
from exchanges.venues import venue_profile
from funding_service.collector import FundingCollector
from strategies.runtime import Runtime, venue_accounts

ROUNDS = 10  # simulated hours of trading


def truncate_all(engine: Engine) -> None:
    """Empty every table but the database's recorded deployment mode (`deployment`)."""
    tables = db.models.Base.metadata.sorted_tables
    names = ", ".join(t.name for t in tables if t.name != "deployment")
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


def trade_demo_strategies(engine: Engine) -> datetime:
    """Seed a scenario around now, fund the accounts, trade; return the clock's end time."""
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(
        hours=ROUNDS + 2
    )
    clock = ManualClock(start)
    runtime = Runtime(engine=engine, clock=clock)
    configs = runtime.configs.values()
    pairs = sorted({(va.venue, va.account) for c in configs for va in venue_accounts(c)})
    venues = sorted({venue for venue, _ in pairs})
    symbols = sorted({symbol for c in configs for symbol in c.traded_symbols()})
    ticks = generate_scenario(7, venues, symbols, start - timedelta(hours=24), hours=24 * 4)
    store_ticks(engine, ticks)
    for venue, account in pairs:
        runtime.exchange(venue, account).credit_deposit(  # type: ignore[attr-defined]
            f"seed-{venue}-{account}", "USDC", Decimal(50_000), venue_profile(venue).deposit_chain
        )
    collector = FundingCollector({v: runtime.exchange(v) for v in venues}, clock, engine)
    for _ in range(ROUNDS):
        clock.advance(timedelta(hours=1))
        collector.collect()
        arb = runtime.build("arb-demo")
        for phase in (arb.monitor, arb.rebalance, arb.open_positions):
            phase(clock.now())
        runtime.build("grid-demo").run_cycle(clock.now())
    runtime.transfer_manager.request_transfer(
        "hyperliquid",
        "paradex",
        Decimal(500),
        from_account="arb",
        to_account="arb",
        reason="dashboard test data",
    )
    return clock.now()


def run_phase_tasks() -> None:
    """Phase runs in `task_runs` as the task layer records them (in this process, eagerly):
    a monitor that ran, a beat tick skipped while paused, one that ran after resuming."""
    from tasks.strategy_tasks import monitor, pause, resume, run_cycle

    monitor.apply(args=("arb-demo",)).get()
    pause.apply(args=("grid-demo",), kwargs={"reason": "test pause"}).get()
    run_cycle.apply(args=("grid-demo",)).get()
    resume.apply(args=("grid-demo",)).get()
    run_cycle.apply(args=("grid-demo",)).get()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(app: object) -> Iterator[str]:
    """Serve the ASGI `app` with uvicorn on a free local port until the block ends."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise TimeoutError("the dashboard server did not start within 20 s")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
