"""Halts with real workers: the CLI's halt holds for every trigger until `resume --halt`;
a worker runs the breaker check with the paper faults of the venues config, halts the
strategy whose venue is out, and its alerts reach a real local webhook."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

import tests.support.probe_strategy  # noqa: F401  (registers the probe in this process too)
from core.settings import PROJECT_ROOT
from db.models import Event, StrategyPosition, TaskRun
from db.repositories.breakers import BreakerRepository
from db.repositories.halts import HaltRepository
from db.uow import unit_of_work
from strategies.runtime import reset_runtime
from tests.support.alert_receiver import alert_receiver
from tests.support.celery_app import app
from tests.support.waiting import wait_until
from tests.support.workers import celery_worker
from trading_bot import app as cli

pytestmark = pytest.mark.slow

runner = CliRunner()


def _cli(*args: str) -> str:
    result = runner.invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


@pytest.fixture
def gamma(probe_configs):
    (probe_configs / "gamma.yaml").write_text(
        "type: probe\nname: gamma\nphase_seconds: 0.05\nopens: true\n"
    )
    reset_runtime()


def _open_position(engine) -> str:
    pid = uuid.uuid4()
    at = datetime.now(UTC)
    with unit_of_work(engine) as session:
        session.add(
            StrategyPosition(
                id=pid,
                strategy_name="gamma",
                symbol="PROBE",
                long_dex="probe-long",
                short_dex="probe-short",
                size_usd=Decimal(1),
                status="open",
                created_at=at,
                updated_at=at,
            )
        )
    return str(pid)


def test_a_manual_halt_holds_until_resume_halt(gamma, clean_db):
    position = _open_position(clean_db)
    with celery_worker(concurrency=1):
        halted = _cli("halt", "gamma", "--reason", "drill", "--close-hedged")
        assert halted.startswith("strategy gamma halted by manual breaker at ")
        assert halted.count(": drill") == 1 and "enqueued perpbot.strategy.halt gamma" in halted
        wait_until(
            lambda: _events(clean_db, "strategy.stopped"), timeout=30, message="halt wind-down"
        )
        [close] = wait_until(
            lambda: _events(clean_db, "probe.close"), timeout=30, message="the halt's close"
        )
        assert close.payload["position"] == position and close.payload["reason"] == "halt: drill"
        again = _cli("halt", "gamma", "--reason", "second")
        assert ": drill" in again and "second" not in again  # the first halt stays
        blocked = app.send_task("perpbot.strategy.open", args=("gamma",)).get(timeout=30)
        assert blocked["skipped"] is True
        assert blocked["reason"].startswith("no new exposure: strategy gamma halted by manual")
        status = _cli("status")
        assert "HALTED (manual)" in status and "drill" in status
        not_lifted = _cli("resume", "gamma", "--wait")  # a plain resume lifts a pause only
        assert "'paused': False" in not_lifted
        assert app.send_task("perpbot.strategy.open", args=("gamma",)).get(timeout=30)["skipped"]
        lifted = _cli("resume", "gamma", "--halt", "--by", "alice")
        assert lifted.startswith("lifted: strategy gamma halted by manual breaker")
        opened = app.send_task("perpbot.strategy.open", args=("gamma",)).get(timeout=30)
    assert opened["skipped"] is False
    assert _cli("resume", "gamma", "--halt") == "gamma: no active halt to lift"
    [lift] = _events(clean_db, "halt.lifted")
    assert lift.payload["lifted_by"] == "alice" and lift.payload["reason"] == "drill"
    assert runner.invoke(cli, ["halt"]).exit_code == 2  # neither NAME nor --all
    assert runner.invoke(cli, ["halt", "nosuch"]).exit_code == 2


def test_a_worker_halts_a_strategy_whose_paper_venue_is_out(probe_configs, clean_db, tmp_path):
    example = (PROJECT_ROOT / "configs" / "strategies" / "grid.yaml").read_text()
    (probe_configs / "grid.yaml").write_text(
        example + "breakers: {venue_unreachable_seconds: 60}\n"
    )
    now = datetime.now(UTC)
    venues = tmp_path / "venues.yaml"
    venues.write_text(
        "paper:\n  hyperliquid:\n    faults:\n      outages:\n"
        f"        - {{start: '{(now - timedelta(hours=1)).isoformat()}', "
        f"end: '{(now + timedelta(hours=1)).isoformat()}'}}\n"
    )
    ops = tmp_path / "ops.yaml"
    ops.write_text("alerts: {dedupe_seconds: 3600}\n")
    with unit_of_work(clean_db) as session:  # the outage began 5 minutes ago
        BreakerRepository(session).record_probe(
            "hyperliquid", "grid", now - timedelta(minutes=5), "timeout"
        )
    with alert_receiver() as receiver:
        env = {
            "PERPBOT_VENUES_CONFIG": str(venues),
            "PERPBOT_OPS_CONFIG": str(ops),
            "PERPBOT_ALERT_URLS": receiver.url,
        }
        with celery_worker(concurrency=1, env=env):
            report = app.send_task("perpbot.ops.check_breakers").get(timeout=60)
            again = app.send_task("perpbot.ops.check_breakers").get(timeout=60)
            cycle = app.send_task("perpbot.strategy.cycle", args=("grid-eth",)).get(timeout=60)
        titles = receiver.titles()
    [trip] = report["tripped"]
    assert trip["scope"] == "grid-eth" and trip["breaker"] == "venue_down"
    assert trip["reason"].startswith("hyperliquid/grid unreachable for 3")
    assert "injected outage" in trip["reason"]
    assert report["venues_down"] == ["hyperliquid/grid"] and again["tripped"] == []
    assert cycle["skipped"] is True and "halted by venue_down" in cycle["reason"]
    halted, down = sorted(titles)  # one of each, though the check ran twice
    assert halted == "perpbot: grid-eth halted (venue_down)"
    assert down.startswith("perpbot: hyperliquid/grid unreachable for 30")
    with Session(clean_db) as session:
        assert HaltRepository(session).active("grid-eth").breaker == "venue_down"
        runs = session.scalars(select(TaskRun.status).where(TaskRun.phase == "cycle")).all()
    assert runs == ["skipped"]


def _events(engine, kind: str) -> list[Event]:
    with Session(engine) as session:
        return list(session.scalars(select(Event).where(Event.kind == kind).order_by(Event.id)))
