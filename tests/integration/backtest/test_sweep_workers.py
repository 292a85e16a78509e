"""Sweeps on real Celery workers: one task per combination, results in PostgreSQL, and a
worker SIGKILLed mid-sweep loses nothing (its message comes back; the row is stored once)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backtest.runner import BacktestRequest, load, run_variant
from backtest.sweep import gather, sweep_id
from backtest.variants import Sweep
from core.clock import SystemClock
from core.settings import PROJECT_ROOT
from db.models import BacktestResult
from tasks.backtest_tasks import broker_available, enqueue_sweep
from tests.support.waiting import wait_until
from tests.support.workers import celery_worker, kill_group

pytestmark = pytest.mark.slow

SAMPLE = PROJECT_ROOT / "data" / "sample" / "funding-history"
CONFIG = PROJECT_ROOT / "configs" / "backtest" / "funding_arbitrage.yaml"


def _request(values: tuple[str, ...], days: int) -> BacktestRequest:
    return BacktestRequest(
        config=CONFIG,
        data=SAMPLE,
        start=datetime(2025, 9, 1, tzinfo=UTC),
        end=datetime(2025, 9, 1 + days, tzinfo=UTC),
        policies=("profit_erosion",),
        sweeps=(Sweep("rebalance.min_erosion", values),),
    )


def _rows(engine, sid: str) -> list[BacktestResult]:
    with Session(engine) as session:
        return list(session.scalars(select(BacktestResult).where(BacktestResult.sweep_id == sid)))


def test_a_sweep_runs_one_task_per_combination_and_gathers_one_report(clean_db):
    request = _request(("0.3", "0.6"), days=3)
    assert broker_available()
    with celery_worker(concurrency=1):
        sent = enqueue_sweep(request)
        document, _ = gather(request, SystemClock(), timeout_seconds=120)
    keys = [
        "profit_erosion[rebalance.min_erosion=0.3]",
        "profit_erosion[rebalance.min_erosion=0.6]",
    ]
    assert sent == keys
    assert [p["policy"] for p in document["policies"]] == keys
    rows = _rows(clean_db, sweep_id(request))
    assert sorted(r.combination for r in rows) == keys
    assert all(r.worker and r.worker.startswith("test-") for r in rows)  # workers ran them
    # Sending the same sweep again sends nothing: every combination is stored.
    assert enqueue_sweep(request) == []


def test_a_worker_killed_mid_sweep_loses_no_result(clean_db, tmp_path: Path):
    request = _request(("0.2", "0.4", "0.6"), days=20)
    sid = sweep_id(request)
    log = tmp_path / "first-worker.log"
    with celery_worker(concurrency=1, log_path=log) as first:
        enqueue_sweep(request)
        wait_until(lambda: _rows(clean_db, sid), timeout=90, message="no combination stored")
        # The next combination is received and running when the worker dies.
        wait_until(
            lambda: log.read_text().count("Task backtest.run_combination[") >= 3,
            timeout=30,
            message=lambda: f"second task never started:\n{log.read_text()[-2000:]}",
        )
        stored_before = len(_rows(clean_db, sid))
        kill_group(first)
    assert stored_before < 3, "the worker finished everything before it was killed"
    with celery_worker(concurrency=1):
        document, _ = gather(request, SystemClock(), timeout_seconds=180)
    rows = _rows(clean_db, sid)
    assert len(rows) == 3  # one row per combination: nothing lost, nothing twice
    with Session(clean_db) as session:
        assert session.scalar(select(func.count()).select_from(BacktestResult)) == 3
    # A rerun is the same deterministic backtest: the stored piece equals one run here.
    key = "profit_erosion[rebalance.min_erosion=0.4]"
    variant = next(v for v in request.variants() if v.key == key)
    here = run_variant(request, variant, load(request, SystemClock(), []))
    stored = next(p for p in document["policies"] if p["policy"] == key)
    assert stored == here["policy"]
