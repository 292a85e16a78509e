"""Scenarios stored in PostgreSQL: bulk, idempotent, all-or-nothing, read by paper venues."""

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models.paper import PaperMarketTick
from exchanges.scenarios import (
    ScenarioFormatError,
    generate_scenario,
    replay_csv,
    store_ticks,
    write_csv,
)

from .conftest import START


def stored(engine) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(PaperMarketTick))


def test_store_is_bulk_and_idempotent(clean_db):
    ticks = generate_scenario(
        1, ["hyperliquid", "paradex", "aster"], ["BTC", "ETH", "SOL"], START, 48
    )
    assert store_ticks(clean_db, ticks, chunk=100) == len(ticks) == 9 * 49
    assert store_ticks(clean_db, ticks) == 0
    assert stored(clean_db) == len(ticks)


def test_one_bad_tick_writes_nothing(clean_db):
    ticks = generate_scenario(2, ["lighter"], ["ETH"], START, 5)
    ticks[3] = replace(ticks[3], interval_hours=Decimal(7))
    with pytest.raises(ScenarioFormatError, match=r"tick 3 .*interval_hours"):
        store_ticks(clean_db, ticks)
    assert stored(clean_db) == 0


def test_replayed_csv_drives_a_paper_venue(clean_db, paper, clock, tmp_path):
    path = tmp_path / "replay.csv"
    write_csv(path, generate_scenario(3, ["aster", "hyperliquid"], ["SOL"], START, 24))
    assert replay_csv(clean_db, path) == 50
    clock.advance(timedelta(hours=5, minutes=10))
    aster = paper("aster", deposit=None)
    [rate] = aster.funding_rates(["SOL"])
    assert rate.interval_hours == 4 and rate.timestamp == START + timedelta(hours=5)
    assert rate.next_funding_time == START + timedelta(hours=8)
    assert paper("hyperliquid", deposit=None).funding_rates()[0].interval_hours == 1
