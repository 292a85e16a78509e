"""Halts in PostgreSQL: tripping is idempotent (the first cause is kept), a global halt
stops every strategy, only a lift ends one, and two workers tripping at once keep one row."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.alerts import Alert, AlertKind, AlertSeverity
from core.clock import ManualClock
from core.settings import load_settings
from db.models import Halt
from db.repositories.halts import GLOBAL_SCOPE, HaltRepository
from db.repositories.runs import ControlRepository
from strategies.runtime import Runtime

AT = datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC)


def test_a_second_trip_keeps_the_first_halt(db_session):
    halts = HaltRepository(db_session)
    first = halts.trip("arb", "max_drawdown", "drawdown 12% > 10%", AT)
    again = halts.trip("arb", "daily_loss", "lost 600 USD today", AT + timedelta(minutes=1))
    assert again == first
    assert (again.breaker, again.reason, again.tripped_at) == (
        "max_drawdown",
        "drawdown 12% > 10%",
        AT,
    )
    assert halts.list_active() == [first]


def test_a_strategy_is_stopped_by_its_own_halt_or_the_global_one(db_session):
    halts = HaltRepository(db_session)
    assert halts.active("grid") is None
    halts.trip("arb", "failed_opens", "5 opens failed in a row", AT)
    assert halts.active("grid") is None
    world = halts.trip(
        GLOBAL_SCOPE, "manual", "operator: exchange incident", AT + timedelta(seconds=5)
    )
    assert halts.active("grid") == world
    assert halts.active("arb").breaker == "failed_opens"  # the earlier halt is the cause
    assert world.describe().startswith("all strategies halted by manual breaker")


def test_only_a_lift_ends_a_halt_and_the_history_stays(db_session):
    halts = HaltRepository(db_session)
    halts.trip("arb", "venue_down", "lighter unreachable for 300 s", AT)
    assert halts.lift("grid", "alice", AT) is False
    assert halts.lift("arb", "alice", AT + timedelta(hours=1)) is True
    assert halts.lift("arb", "alice", AT + timedelta(hours=1)) is False
    assert halts.active("arb") is None
    again = halts.trip("arb", "manual", "again", AT + timedelta(hours=2))
    assert again.breaker == "manual"
    [newest, lifted] = halts.history()
    assert newest == again
    assert (lifted.lifted_by, lifted.lifted_at) == ("alice", AT + timedelta(hours=1))


def test_a_halt_blocks_exposure_before_a_pause_does(db_session):
    controls = ControlRepository(db_session)
    controls.set_paused("arb", True, "maintenance")
    assert controls.exposure_block("arb") == "strategy arb is paused: maintenance"
    HaltRepository(db_session).trip("arb", "unhedged_notional", "1500 USD unhedged > 1000", AT)
    assert controls.exposure_block("arb") == (
        "strategy arb halted by unhedged_notional breaker at 2021-03-04 05:06:07Z: "
        "1500 USD unhedged > 1000"
    )


@pytest.mark.parametrize(
    ("scope", "breaker", "reason", "at", "message"),
    [
        ("", "manual", "x", AT, "halt scope must be a non-empty string"),
        ("arb", " ", "x", AT, "halt breaker must be a non-empty string"),
        ("arb", "manual", "", AT, "halt reason must be a non-empty string"),
        ("a" * 51, "manual", "x", AT, "longer than 50 characters"),
        ("arb", "manual", "x", datetime(2021, 1, 1), "timezone-aware"),
    ],
)
def test_a_bad_trip_names_the_field_and_writes_nothing(
    db_session, scope, breaker, reason, at, message
):
    with pytest.raises(ValueError, match=message):
        HaltRepository(db_session).trip(scope, breaker, reason, at)
    assert db_session.scalar(select(func.count()).select_from(Halt)) == 0


def test_two_workers_tripping_at_once_keep_one_halt(engine, clean_db):
    barrier = threading.Barrier(2)
    results = []

    def trip(breaker: str) -> None:
        with Session(engine) as session, session.begin():
            barrier.wait(timeout=10)
            results.append(HaltRepository(session).trip("arb", breaker, breaker, AT))

    threads = [threading.Thread(target=trip, args=(b,)) for b in ("daily_loss", "max_drawdown")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    assert len(results) == 2 and results[0] == results[1]
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Halt)) == 1


class _Recorded:
    def __init__(self) -> None:
        self.sent: list[Alert] = []

    def send(self, alert: Alert) -> bool:
        self.sent.append(alert)
        return True


def test_runtime_halt_commits_and_alerts_once_per_halt(engine, clean_db):
    sink = _Recorded()
    runtime = Runtime(
        settings=load_settings(PERPBOT_MODE="paper"),
        engine=engine,
        clock=ManualClock(AT),
        configs={},
        alerts=sink,
    )
    first = runtime.halt("arb", "manual", "operator says stop")
    second = runtime.halt("arb", "daily_loss", "lost too much")
    assert first == second
    assert runtime.exposure_block("arb") == first.describe()
    assert {a.dedupe_key for a in sink.sent} == {f"breaker:{first.id}"}
    assert sink.sent[0].kind is AlertKind.BREAKER_TRIPPED
    assert sink.sent[0].severity is AlertSeverity.CRITICAL
    assert "resume --halt" in sink.sent[0].body
