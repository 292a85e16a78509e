"""`trading_bot.py metrics` serves what PostgreSQL holds: scraped over HTTP from the real
command and parsed as Prometheus text."""

from __future__ import annotations

import socket
import subprocess
import sys
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.orm import Session

from core.enums import PositionStatus
from core.settings import PROJECT_ROOT
from db.models import StrategyPosition, TaskRun
from db.repositories.breakers import BreakerRepository
from db.repositories.halts import HaltRepository
from tests.support.environment import paper_env
from tests.support.waiting import wait_until

NOW = datetime.now(UTC)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def seed(engine) -> None:
    with Session(engine) as session, session.begin():
        for symbol, status, long_qty, short_qty in (
            ("ETH", PositionStatus.OPEN, D("1"), D("0.5")),
            ("BTC", PositionStatus.CLOSED, D(0), D(0)),
        ):
            session.add(
                StrategyPosition(
                    id=uuid.uuid4(),
                    strategy_name="arb-main",
                    symbol=symbol,
                    long_dex="hyperliquid",
                    short_dex="lighter",
                    size_usd=D(1000),
                    long_qty=long_qty,
                    short_qty=short_qty,
                    long_entry_price=D(2000),
                    short_entry_price=D(2000),
                    long_funding_usd=D("3.5"),
                    fees_usd=D("1.5"),
                    realized_pnl_usd=D(40) if status is PositionStatus.CLOSED else D(0),
                    unrealized_pnl_usd=D(-10) if status is PositionStatus.OPEN else D(0),
                    status=status.value,
                    created_at=NOW - timedelta(minutes=10),
                    updated_at=NOW - timedelta(minutes=2),
                )
            )
        for status in ("succeeded", "succeeded", "skipped"):
            session.add(
                TaskRun(
                    id=uuid.uuid4(),
                    task_name="perpbot.strategy.open",
                    strategy_name="arb-main",
                    phase="open",
                    trigger="beat",
                    status=status,
                    started_at=NOW - timedelta(seconds=90),
                )
            )
        HaltRepository(session).trip("arb-main", "daily_loss", "lost 600 USD", NOW)
        BreakerRepository(session).record_probe("lighter", "arb", NOW, "timeout")


@pytest.fixture
def exporter(clean_db):
    seed(clean_db)
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "trading_bot.py", "metrics", "--port", str(port)],
        cwd=PROJECT_ROOT,
        env=paper_env({"PERPBOT_STRATEGIES": str(PROJECT_ROOT / "configs" / "strategies")}),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/metrics"

    def up() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"metrics exited: {proc.stdout.read().decode()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return True
        except OSError:
            return False

    try:
        wait_until(up, 30, f"nothing answered on {url}")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_a_scrape_shows_positions_exposure_pnl_phases_halts_and_venues(exporter):
    m = scrape(exporter)
    assert m["perpbot_positions", (("status", "open"), ("strategy", "arb-main"))] == 1
    assert m["perpbot_exposure_usd", (("side", "long"), ("venue", "hyperliquid"))] == 2000
    assert m["perpbot_exposure_usd", (("side", "short"), ("venue", "lighter"))] == 1000
    # open: -10 + 3.5 - 1.5; closed: 40 realised
    assert m["perpbot_net_pnl_usd", (("strategy", "arb-main"),)] == pytest.approx(32)
    assert m["perpbot_funding_usd", (("strategy", "arb-main"),)] == pytest.approx(7)
    assert m["perpbot_unhedged_notional_usd", (("strategy", "arb-main"),)] == 1000
    assert m["perpbot_naked_leg_seconds", (("strategy", "arb-main"),)] >= 120
    runs = (("phase", "open"), ("status", "skipped"), ("strategy", "arb-main"))
    assert m["perpbot_phase_runs_total", runs] == 1
    assert (
        m["perpbot_phase_last_run_age_seconds", (("phase", "open"), ("strategy", "arb-main"))] >= 90
    )
    assert m["perpbot_halt_active", (("breaker", "daily_loss"), ("scope", "arb-main"))] == 1
    assert m["perpbot_strategy_halted", (("strategy", "arb-main"),)] == 1
    assert m["perpbot_strategy_halted", (("strategy", "grid-eth"),)] == 0
    assert m["perpbot_venue_up", (("account", "arb"), ("venue", "lighter"))] == 0
