"""`funding top` and the collection task on real paper venues."""

import time
from datetime import UTC, datetime
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from core.clock import ManualClock
from core.settings import get_settings
from db.models import FundingRate
from exchanges.paper import PaperExchange
from exchanges.scenarios import store_ticks
from exchanges.simulation.market import Tick
from funding_service.collector import FundingCollector
from strategies.runtime import reset_runtime
from trading_bot import app

T = datetime(2026, 4, 6, 12, tzinfo=UTC)
RATES = {  # per interval; hyperliquid 1h, paradex and aster 8h
    ("hyperliquid", "BTC"): "0.0000125",
    ("paradex", "BTC"): "0.0004",
    ("aster", "BTC"): "0.0001",
    ("hyperliquid", "ETH"): "-0.00002",
    ("paradex", "ETH"): "0.0006",
    ("aster", "ETH"): "0.00008",
}


@pytest.fixture
def paper_rates(clean_db, monkeypatch):
    ticks = [
        Tick(
            v,
            s,
            T,
            D(60_000) if s == "BTC" else D(3_000),
            D(r),
            D(1) if v == "hyperliquid" else D(8),
        )
        for (v, s), r in RATES.items()
    ]
    store_ticks(clean_db, ticks)
    # Every process of this test (the CLI's runtime, the worker) reads the same clock.
    monkeypatch.setenv("PERPBOT_CLOCK_ORIGIN", T.isoformat())
    monkeypatch.setenv("PERPBOT_CLOCK_REAL_START", repr(time.time()))
    monkeypatch.setenv("PERPBOT_CLOCK_SPEED", "1")
    get_settings.cache_clear()
    reset_runtime()
    yield clean_db
    get_settings.cache_clear()
    reset_runtime()


def test_funding_top_shows_the_ranked_table_from_paper_venues(paper_rates, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    clients = {
        v: PaperExchange(v, engine=paper_rates, clock=ManualClock(T))
        for v in ("hyperliquid", "paradex", "aster")
    }
    report = FundingCollector(clients, ManualClock(T), paper_rates).collect()
    assert report.stored == {"aster": 2, "hyperliquid": 2, "paradex": 2}

    result = CliRunner().invoke(app, ["funding", "top", "--limit", "3"])
    assert result.exit_code == 0, result.output
    rows = [line for line in result.output.splitlines() if line.strip().startswith("│")]
    cells = [[c.strip() for c in row.split("│")[1:-1]] for row in rows]
    assert [c[1:4] for c in cells] == [
        # ETH: long hyperliquid (-0.002 %/h), short paradex (0.0075 %/h): 0.0095 %/h, 83.22 % APR.
        ["ETH", "hyperliquid", "paradex"],
        ["ETH", "aster", "paradex"],
        # BTC: aster and hyperliquid pay the same per hour; aster's lower fee wins.
        ["BTC", "aster", "paradex"],
    ]
    assert cells[0][6] == "83.22%"
    # $10,000 x (0.0000375 x 168 - 2 x (0.00025 + 0.0003)) = $52.00
    assert (cells[2][6], cells[2][9]) == ("32.85%", "$52.00")
    assert "5 pairs pass" in result.output


def test_funding_top_without_rates_is_one_clear_line(clean_db):
    result = CliRunner().invoke(app, ["funding", "top"])
    assert result.exit_code == 1
    assert "no funding rates stored yet" in result.output


def test_collection_task_stores_rates_through_a_real_worker(paper_rates):
    from tests.support.celery_app import app as celery_app
    from tests.support.workers import celery_worker

    with celery_worker(queues="market"):
        answer = celery_app.send_task(
            "perpbot.market.collect_funding", kwargs={"venues": ["hyperliquid", "paradex"]}
        ).get(timeout=60)
    assert answer["stored"] == {"hyperliquid": 2, "paradex": 2}
    with Session(paper_rates) as session:
        assert session.scalar(select(func.count()).select_from(FundingRate)) == 4
