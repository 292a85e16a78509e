"""Funding settlement on the paper venue: hand-computed sums, exactly once, concurrently."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.enums import OrderSide, OrderType
from db.models.paper import PaperFundingSettlement, PaperLedgerEntry
from exchanges.base import OrderRequest
from exchanges.paper import PaperExchange

from .conftest import START, flat_ticks, ledger_by_kind, ledger_sum

D = Decimal
NO_SLIP = {"slippage_bps": D(0), "impact_bps_per_million": D(0)}
# 25 hourly ticks, 00:00 .. 24:00, with marks and rates that change every hour.
MARKS = [D(3_000) + D(7) * ((i * 5) % 11) for i in range(25)]
HOURLY_RATES = [D("0.0000125") + D("0.0000031") * ((i * 3) % 7 - 3) for i in range(25)]


def order(cid, side, qty, symbol="ETH"):
    return OrderRequest(cid, symbol, side, OrderType.MARKET, D(qty))


def funding_rows(engine, venue):
    with Session(engine) as session:
        settlements = session.scalar(
            select(func.count()).where(PaperFundingSettlement.venue == venue)
        )
        payments = session.scalar(
            select(func.count()).where(
                PaperLedgerEntry.venue == venue, PaperLedgerEntry.kind == "funding"
            )
        )
    return settlements, payments


def test_hourly_venue_pays_24_settlements_matching_the_hand_sum(
    paper, store_market, clean_db, clock
):
    store_market(flat_ticks("hyperliquid", "ETH", MARKS, HOURLY_RATES, interval=1))
    venue = paper(**NO_SLIP)
    venue.place_order(order("long", OrderSide.BUY, "2"))
    clock.advance(timedelta(hours=24))
    [position] = venue.positions()
    # Long 2 ETH pays qty * mark * rate at 01:00, 02:00, ..., 24:00 (not at 00:00: opened then).
    expected = sum(-D(2) * MARKS[h] * HOURLY_RATES[h] for h in range(1, 25))
    assert ledger_by_kind(clean_db, "hyperliquid")["funding"] == expected
    assert funding_rows(clean_db, "hyperliquid") == (24, 24)
    assert position.qty == D(2)
    collateral, ledger = ledger_sum(clean_db, "hyperliquid")
    assert collateral == ledger


def test_eight_hour_venue_pays_three_settlements_matching_the_hand_sum(
    paper, store_market, clean_db, clock
):
    rates_per_8h = [r * 8 for r in HOURLY_RATES]
    store_market(flat_ticks("paradex", "ETH", MARKS, rates_per_8h, interval=8))
    venue = paper("paradex", **NO_SLIP)
    venue.place_order(order("short", OrderSide.SELL, "3"))
    clock.advance(timedelta(hours=24))
    venue.settle()
    # Short 3 ETH receives at 08:00, 16:00 and 24:00, each at that hour's mark and rate.
    expected = sum(D(3) * MARKS[h] * rates_per_8h[h] for h in (8, 16, 24))
    assert ledger_by_kind(clean_db, "paradex")["funding"] == expected
    assert funding_rows(clean_db, "paradex") == (3, 3)
    # The same total, quoted hourly, would need the hourly rate of every hour: not what an
    # 8-hour venue pays, which is why interval_hours is stored with every rate.
    assert expected != sum(D(3) * MARKS[h] * HOURLY_RATES[h] for h in range(1, 25))


def test_four_hour_market_settles_six_times_a_day(paper, store_market, clean_db, clock):
    store_market(flat_ticks("aster", "SOL", [150] * 25, "0.0002", interval=4))
    venue = paper("aster", **NO_SLIP)
    venue.place_order(order("sol", OrderSide.BUY, "10", symbol="SOL"))
    clock.advance(timedelta(hours=24))
    venue.settle()
    assert ledger_by_kind(clean_db, "aster")["funding"] == -6 * D(10) * 150 * D("0.0002")
    assert funding_rows(clean_db, "aster") == (6, 6)


def test_funding_follows_the_position_held_at_each_funding_time(
    paper, store_market, clean_db, clock
):
    store_market(flat_ticks("hyperliquid", "ETH", [3_000] * 5, "0.0001"))
    venue = paper(**NO_SLIP)
    venue.place_order(order("open", OrderSide.BUY, "1"))
    clock.advance(timedelta(hours=2, minutes=30))
    venue.place_order(order("add", OrderSide.BUY, "1"))
    clock.advance(timedelta(hours=1, minutes=30))
    venue.settle()
    # 01:00 and 02:00 on 1 ETH, 03:00 and 04:00 on 2 ETH.
    assert ledger_by_kind(clean_db, "hyperliquid")["funding"] == -(1 + 1 + 2 + 2) * D("0.3")


def test_concurrent_settlement_pays_each_funding_time_once(paper, store_market, clean_db, clock):
    store_market(flat_ticks("hyperliquid", "ETH", MARKS, HOURLY_RATES))
    venue = paper(**NO_SLIP)
    venue.place_order(order("long", OrderSide.BUY, "1"))
    target = START + timedelta(hours=24)
    settlers = [PaperExchange("hyperliquid", engine=clean_db, clock=clock) for _ in range(6)]
    steps = [START + timedelta(hours=h) for h in (6, 12, 24, 18, 24, 3)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        reports = list(
            pool.map(lambda pair: pair[0].settle(pair[1]), zip(settlers, steps, strict=True))
        )
    assert sum(r.funding_settlements for r in reports) == 24
    assert funding_rows(clean_db, "hyperliquid") == (24, 24)
    assert ledger_by_kind(clean_db, "hyperliquid")["funding"] == sum(
        -MARKS[h] * HOURLY_RATES[h] for h in range(1, 25)
    )
    assert venue.settle(target).funding_settlements == 0


@pytest.mark.parametrize("venue_name", ["hyperliquid", "paradex"])
def test_an_idle_venue_records_settlements_without_payments(
    paper, store_market, clean_db, clock, venue_name
):
    interval = 1 if venue_name == "hyperliquid" else 8
    store_market(flat_ticks(venue_name, "ETH", [3_000] * 25, "0.0001", interval=interval))
    venue = paper(venue_name, deposit=None)
    assert venue.settle().funding_settlements == 0  # the venue starts now
    clock.advance(timedelta(hours=24))
    report = venue.settle()
    assert report.funding_settlements == 24 // interval and report.funding_payments == 0


def test_funding_history_for_all_symbols_is_the_union_of_per_symbol_reads(
    paper, store_market, clean_db, clock
):
    store_market(flat_ticks("hyperliquid", "ETH", MARKS, HOURLY_RATES, interval=1))
    store_market(flat_ticks("hyperliquid", "SOL", [D(150)] * 25, HOURLY_RATES, interval=1))
    venue = paper(**NO_SLIP)
    venue.place_order(order("eth", OrderSide.BUY, "2"))
    venue.place_order(order("sol", OrderSide.SELL, "10", symbol="SOL"))
    clock.advance(timedelta(hours=6))
    everything = venue.funding_payments(None, START)
    eth = venue.funding_payments("ETH", START)
    sol = venue.funding_payments("SOL", START)
    assert len(eth) == len(sol) == 6
    assert sorted(everything, key=lambda p: (p.funding_time, p.symbol)) == sorted(
        eth + sol, key=lambda p: (p.funding_time, p.symbol)
    )
    # Each payment is on the position held in its own symbol.
    assert {p.position_qty for p in eth} == {D(2)} and {p.position_qty for p in sol} == {D(-10)}
