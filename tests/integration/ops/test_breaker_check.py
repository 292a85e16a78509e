"""The breaker check on real PostgreSQL and paper venues: each breaker halts its scope once,
the halt blocks new exposure, alerts reach a real webhook once, and a venue outage injected
through the venues config is seen by the probe."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import ManualClock
from core.enums import PositionStatus
from core.ops_config import AlertPolicy
from core.settings import PROJECT_ROOT, load_settings
from db.models import Event, StrategyPosition
from db.repositories.breakers import BreakerRepository
from db.repositories.halts import HaltRepository
from strategies.breaker_check import BreakerCheck
from strategies.components.alert_sink import DeliveringAlertSink
from strategies.factory import load_strategy_config
from strategies.runtime import Runtime
from tests.support.alert_receiver import Receiver, alert_receiver

START = datetime(2026, 4, 2, 9, 0, tzinfo=UTC)


def grid(name: str, **breakers: object):
    base = load_strategy_config(PROJECT_ROOT / "configs" / "strategies" / "grid.yaml")
    raw = {**base.model_dump(mode="json"), "name": name, "breakers": breakers}
    return load_strategy_config(raw)


def position(engine, strategy: str, status: PositionStatus, at: datetime, **values) -> uuid.UUID:
    pid = uuid.uuid4()
    row = StrategyPosition(
        id=pid,
        strategy_name=strategy,
        symbol=values.pop("symbol", f"S{uuid.uuid4().hex[:6]}"),
        long_dex=values.pop("long_dex", "hyperliquid"),
        short_dex=values.pop("short_dex", "lighter"),
        size_usd=D(1000),
        status=status.value,
        created_at=at,
        updated_at=at,
        **values,
    )
    with Session(engine) as session, session.begin():
        session.add(row)
    return pid


def runtime_for(
    engine, clock, receiver: Receiver, configs, tmp_path: Path, venues: str = "", ops: str = ""
) -> Runtime:
    (tmp_path / "venues.yaml").write_text(venues or "paper: {}\n")
    (tmp_path / "ops.yaml").write_text(ops or "{}\n")
    settings = load_settings(
        PERPBOT_MODE="paper",
        PERPBOT_VENUES_CONFIG=str(tmp_path / "venues.yaml"),
        PERPBOT_OPS_CONFIG=str(tmp_path / "ops.yaml"),
    )
    sink = DeliveringAlertSink(engine, clock, [receiver.url], AlertPolicy())
    return Runtime(
        settings=settings,
        engine=engine,
        clock=clock,
        configs={c.name: c for c in configs},
        alerts=sink,
    )


@pytest.fixture
def receiver():
    with alert_receiver() as r:
        yield r


def test_a_drawdown_halts_the_strategy_once_and_alerts_once(engine, clean_db, receiver, tmp_path):
    clock = ManualClock(START)
    runtime = runtime_for(
        engine,
        clock,
        receiver,
        [grid("g1", max_drawdown_usd=500, max_daily_loss_usd=5000)],
        tmp_path,
    )
    position(engine, "g1", PositionStatus.CLOSED, START, realized_pnl_usd=D(400))
    assert BreakerCheck(runtime).run().tripped == []
    clock.advance(timedelta(minutes=5))
    position(engine, "g1", PositionStatus.CLOSED, clock.now(), realized_pnl_usd=D(-650))
    report = BreakerCheck(runtime).run()
    [trip] = report.tripped
    assert (trip.scope, trip.breaker) == ("g1", "max_drawdown")
    assert "drawdown 650.00 USD (net PnL -250.00 USD, peak 400.00 USD)" in trip.reason
    blocked = runtime.exposure_block("g1")
    assert blocked is not None and blocked.startswith("strategy g1 halted by max_drawdown breaker")
    clock.advance(timedelta(minutes=5))
    assert BreakerCheck(runtime).run().tripped == []  # still halted: nothing new
    assert receiver.titles() == ["perpbot: g1 halted (max_drawdown)"]
    with Session(engine) as session:
        kinds = session.scalars(select(Event.kind).where(Event.kind.like("halt.%"))).all()
    assert kinds == ["halt.tripped"]
    # Only an operator lifts it; the next check may trip it again if the cause stays.
    assert runtime.lift_halt("g1", "alice") is not None
    assert runtime.exposure_block("g1") is None


def test_the_daily_loss_counts_from_the_first_check_of_the_utc_day(
    engine, clean_db, receiver, tmp_path
):
    clock = ManualClock(START.replace(hour=23, minute=50))
    runtime = runtime_for(engine, clock, receiver, [grid("g1", max_daily_loss_usd=300)], tmp_path)
    position(engine, "g1", PositionStatus.CLOSED, clock.now(), realized_pnl_usd=D(-250))
    assert BreakerCheck(runtime).run().tripped == []
    clock.advance(timedelta(minutes=20))  # a new day starts at -250
    assert BreakerCheck(runtime).run().tripped == []
    position(engine, "g1", PositionStatus.CLOSED, clock.now(), realized_pnl_usd=D(-299))
    assert BreakerCheck(runtime).run().tripped == []
    position(engine, "g1", PositionStatus.CLOSED, clock.now(), realized_pnl_usd=D(-1))
    [trip] = BreakerCheck(runtime).run().tripped
    assert trip.breaker == "daily_loss" and "lost 300.00 USD since 00:00 UTC" in trip.reason


def test_repeated_failed_opens_halt_and_ask_to_close_the_hedged_positions(
    engine, clean_db, receiver, tmp_path
):
    clock = ManualClock(START)
    config = grid("g1", max_consecutive_failed_opens=3, close_hedged_on_trip=True)
    runtime = runtime_for(engine, clock, receiver, [config], tmp_path)
    hedged = position(engine, "g1", PositionStatus.OPEN, START, long_qty=D(1), short_qty=D(1))
    for minutes in (1, 2):
        position(engine, "g1", PositionStatus.FAILED, START + timedelta(minutes=minutes))
    assert BreakerCheck(runtime).run().tripped == []
    position(engine, "g1", PositionStatus.FAILED, START + timedelta(minutes=3))
    report = BreakerCheck(runtime).run()
    assert [t.breaker for t in report.tripped] == ["failed_opens"]
    assert [(c.strategy, c.position_id) for c in report.closes] == [("g1", hedged)]
    assert report.closes[0].reason.startswith("breaker failed_opens: 3 opens in a row failed")
    assert BreakerCheck(runtime).run().closes == []  # asked once, when it tripped


def test_unhedged_notional_halts_and_the_unhedged_leg_is_alerted(
    engine, clean_db, receiver, tmp_path
):
    clock = ManualClock(START)
    runtime = runtime_for(
        engine, clock, receiver, [grid("g1", max_unhedged_notional_usd=1000)], tmp_path
    )
    position(
        engine,
        "g1",
        PositionStatus.OPEN,
        START,
        symbol="ETH",
        long_qty=D("1"),
        short_qty=D("0.5"),
        long_entry_price=D(3000),
        short_entry_price=D(3010),
    )
    with Session(engine) as session:
        assert BreakerRepository(session).unhedged_notional("g1") == D(1500)
    [trip] = BreakerCheck(runtime).run().tripped
    assert trip.breaker == "unhedged_notional"
    assert sorted(receiver.titles()) == [
        "perpbot: g1 ETH has an unhedged leg",
        "perpbot: g1 halted (unhedged_notional)",
    ]


def test_a_deployment_limit_halts_every_strategy(engine, clean_db, receiver, tmp_path):
    clock = ManualClock(START)
    runtime = runtime_for(
        engine,
        clock,
        receiver,
        [grid("g1"), grid("g2")],
        tmp_path,
        ops="breakers:\n  max_daily_loss_usd: 500\n",
    )
    BreakerCheck(runtime).run()
    position(engine, "g1", PositionStatus.CLOSED, START, realized_pnl_usd=D(-300))
    position(engine, "g2", PositionStatus.CLOSED, START, realized_pnl_usd=D(-200))
    [trip] = BreakerCheck(runtime).run().tripped
    assert trip.scope == "*"
    for name in ("g1", "g2"):
        assert runtime.exposure_block(name).startswith("all strategies halted by daily_loss")
    assert runtime.lift_halt("g1", "alice") is None  # the global halt is lifted as "*"
    assert runtime.lift_halt("*", "alice") is not None


def test_an_injected_outage_trips_the_venue_breaker_and_alerts_venue_down(
    engine, clean_db, receiver, tmp_path
):
    clock = ManualClock(START)
    end = START + timedelta(minutes=10)
    venues = (
        "paper:\n  hyperliquid:\n    faults:\n      outages:\n"
        f"        - {{start: '{START.isoformat()}', end: '{end.isoformat()}'}}\n"
    )
    runtime = runtime_for(
        engine, clock, receiver, [grid("g1", venue_unreachable_seconds=60)], tmp_path, venues=venues
    )
    report = BreakerCheck(runtime).run()
    assert report.venues_down == ["hyperliquid/grid"] and report.tripped == []
    with Session(engine) as session:
        [probe] = BreakerRepository(session).probes()
    assert probe.down_since == START and "injected outage" in (probe.last_error or "")
    clock.advance(timedelta(seconds=61))
    [trip] = BreakerCheck(runtime).run().tripped
    assert trip.breaker == "venue_down" and trip.reason.startswith(
        "hyperliquid/grid unreachable for 61 s"
    )
    clock.advance(timedelta(seconds=60))
    BreakerCheck(runtime).run()
    assert "perpbot: hyperliquid/grid unreachable for 121 s" in receiver.titles()
    clock.advance(timedelta(minutes=10))  # the outage is over: the probe answers again
    assert BreakerCheck(runtime).run().venues_down == []
    with Session(engine) as session:
        assert HaltRepository(session).active("g1").breaker == "venue_down"  # until lifted


def transfer(engine, status: str, updated: datetime) -> uuid.UUID:
    from db.models import FundTransfer

    tid = uuid.uuid4()
    with Session(engine) as session, session.begin():
        session.add(
            FundTransfer(
                id=tid,
                strategy_name="g1",
                from_dex="hyperliquid",
                to_dex="lighter",
                amount_usd=D(250),
                status=status,
                funds_location="wallet" if status != "needs_reconcile" else "unknown",
                created_at=updated,
                updated_at=updated,
            )
        )
    return tid


def test_state_that_needs_an_operator_is_alerted_once_each(engine, clean_db, receiver, tmp_path):
    from db.repositories import EventRepository

    clock = ManualClock(START)
    runtime = runtime_for(
        engine, clock, receiver, [grid("g1")], tmp_path, ops="alerts: {send_info: true}\n"
    )
    transfer(engine, "needs_reconcile", START)
    transfer(engine, "bridging", START - timedelta(hours=2))  # stuck
    transfer(engine, "bridging", START - timedelta(minutes=5))  # moving
    position(
        engine,
        "g1",
        PositionStatus.NEEDS_RECONCILE,
        START,
        symbol="SOL",
        operation="reconcile",
        operation_reason="venue holds 1.49, we hold 0.99",
    )
    opened = position(engine, "g1", PositionStatus.OPEN, START, symbol="BTC")
    with Session(engine) as session, session.begin():
        EventRepository(session).append(
            "position.opened", "position", str(opened), "g1", occurred_at=START, symbol="BTC"
        )
    first = BreakerCheck(runtime).run()
    again = BreakerCheck(runtime).run()
    assert first.alerts_sent == 4 and again.alerts_sent == 0
    assert sorted(receiver.titles()) == [
        "perpbot: g1 SOL position needs reconciling",
        "perpbot: g1 position opened",
        "perpbot: transfer 250.00 USDC hyperliquid->lighter is needs_reconcile",
        "perpbot: transfer 250.00 USDC hyperliquid->lighter stuck in bridging",
    ]
    kinds = {m["title"]: m["message"] for m in receiver.received}
    assert "[reconcile_mismatch critical]" in kinds["perpbot: g1 SOL position needs reconciling"]
    assert "venue holds 1.49, we hold 0.99" in kinds["perpbot: g1 SOL position needs reconciling"]
