"""Pause means no new exposure: every strategy task, beat-fired or manual, and the CLI.

The probe strategy `gamma` tries to open a position in every phase it runs, so each phase's
event says whether it could add exposure. While paused, `open` and `cycle` do not run at all,
and the phases that do (monitor, rebalance, transfers, close) get a strategy that can open
nothing; after `resume` an open opens again.
"""

import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

import tests.support.probe_strategy  # noqa: F401  (registers the probe in this process too)
from db.models import Event, StrategyPosition, TaskRun
from db.repositories.runs import ControlRepository
from db.uow import unit_of_work
from strategies.runtime import reset_runtime
from tests.support.celery_app import app
from tests.support.workers import celery_worker
from trading_bot import app as cli

pytestmark = pytest.mark.slow

runner = CliRunner()
PAUSED = "strategy gamma is paused: maintenance"
REFUSED = "refused: no new position on PROBE probe-long/probe-"
OPENING = ("open", "cycle")
GUARDED = ("monitor", "rebalance", "transfers")


@pytest.fixture
def gamma(probe_configs):
    path = probe_configs / "gamma.yaml"
    path.write_text("type: probe\nname: gamma\nphase_seconds: 0.05\nopens: true\n")
    reset_runtime()
    return path


def _positions(engine) -> int:
    with Session(engine) as session:
        return session.scalar(
            select(func.count())
            .select_from(StrategyPosition)
            .where(StrategyPosition.strategy_name == "gamma")
        )


def _events(engine, kind: str) -> list[Event]:
    with Session(engine) as session:
        return list(session.scalars(select(Event).where(Event.kind == kind).order_by(Event.id)))


def _cli(*args: str) -> str:
    """The command's output, its lines unwrapped (the console wraps at its width)."""
    result = runner.invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


def test_a_paused_strategy_opens_nothing_whatever_the_trigger(gamma, clean_db):
    answers = {}
    with celery_worker(concurrency=1):
        paused = _cli("pause", "gamma", "--reason", "maintenance", "--wait")
        for phase in (*OPENING, *GUARDED):
            for trigger in ("beat", "manual"):
                answers[phase, trigger] = app.send_task(
                    f"perpbot.strategy.{phase}", args=("gamma",), kwargs={"trigger": trigger}
                ).get(timeout=30)
        answers["close", "manual"] = app.send_task(
            "perpbot.strategy.close", args=("gamma", str(uuid.uuid4()))
        ).get(timeout=30)
        cli_rebalance = _cli("rebalance", "gamma", "--reason", "operator", "--wait")
        assert _positions(clean_db) == 0
        resumed = _cli("resume", "gamma", "--wait")
        after = app.send_task("perpbot.strategy.open", args=("gamma",)).get(timeout=30)

    assert "'paused': True" in paused and "'paused': False" in resumed
    for phase in OPENING:
        for trigger in ("beat", "manual"):
            assert answers[phase, trigger] == {
                "strategy": "gamma",
                "phase": phase,
                "skipped": True,
                "reason": f"no new exposure: {PAUSED}",
            }
    ran = [key for key in answers if key[0] not in OPENING]
    assert all(answers[key]["skipped"] is False for key in ran)
    assert "'skipped': False" in cli_rebalance
    # Each phase that ran while paused tried to open and was refused, naming why.
    for phase in (*GUARDED, "close"):
        outcomes = [e.payload["opened"] for e in _events(clean_db, f"probe.{phase}")]
        assert outcomes, phase
        assert all(o.startswith(REFUSED) and o.endswith(f"({PAUSED})") for o in outcomes), phase
    # The pause wound the strategy down (under its lock); after resume an open opens again.
    assert len(_events(clean_db, "strategy.stopped")) == 1
    assert after["skipped"] is False
    [opened] = [e.payload["opened"] for e in _events(clean_db, "probe.open")]
    assert opened.startswith("opened ")
    assert _positions(clean_db) == 1
    with Session(clean_db) as session:
        skipped = session.scalars(
            select(TaskRun.phase).where(
                TaskRun.status == "skipped", TaskRun.strategy_name == "gamma"
            )
        ).all()
    assert sorted(skipped) == sorted(OPENING * 2)


def test_the_in_process_runner_skips_cycles_while_paused(gamma, clean_db):
    with unit_of_work(clean_db) as session:
        ControlRepository(session).set_paused("gamma", True, "maintenance")
    paused = _cli("run", str(gamma), "--cycles", "2", "--interval", "0")
    assert paused.count(f"skipped: no new exposure: {PAUSED}") == 2
    assert _positions(clean_db) == 0

    with unit_of_work(clean_db) as session:
        ControlRepository(session).set_paused("gamma", False, None)
    resumed = _cli("run", str(gamma), "--cycles", "1", "--interval", "0")
    assert "cycle 1 at " in resumed and ": ok" in resumed
    assert _positions(clean_db) == 3  # the probe's cycle: monitor, rebalance, open
