"""Out-of-range venue values, fed through the real ccxt path on recorded traffic, become a
`MalformedResponseError` naming venue, method and field; never a silent value."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import ManualClock
from db.models import Event
from db.models import FundingRate as FundingRateRow
from exchanges.base import MalformedResponseError
from exchanges.boundary import Boundary
from funding_service.collector import FundingCollector
from tests.venues.common import at

D = Decimal


def grvt_rate(replay, **history_fields):
    venue = replay("grvt")

    def patch(answer):
        for settlement in answer["result"]:
            settlement.update(history_fields)

    venue.serve("fetchFundingRateHistory", patch=patch)
    return venue.client(at("2026-01-12T17:00:00+00:00"))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"funding_rate": "1e23"},
            r"grvt: fetch_funding_rate_history: field 'fundingRate' is 1E\+21",
        ),
        ({"funding_rate": "500"}, r"field 'fundingRate' is 5.0 per 8 h, above 0.05 an hour"),
        ({"funding_time": "1" + "0" * 26}, r"field 'timestamp' is 1(0){20} ms, not a time"),
        ({"funding_time": "1705000000000000000"}, r"field 'timestamp' .* not within a day"),
        ({"funding_interval_hours": "0.0000001"}, r"funding interval of 1E-7 h, not between"),
        ({"funding_interval_hours": 5}, r"funding interval of 5 h"),
    ],
)
def test_a_settled_rate_out_of_range_is_malformed(replay, fields, message):
    with pytest.raises(MalformedResponseError, match=message):
        grvt_rate(replay, **fields).funding_rates(["BTC"])


def extended_position(replay, **fields):
    venue = replay("extended")
    venue.serve("fetchPositions", patch=lambda a: a["data"][0].update(fields))
    return venue.client(at("2026-05-07T06:00:00+00:00"))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"markPrice": "0"}, r"field 'markPrice' is 0; a price must be positive"),
        ({"markPrice": "-5"}, r"field 'markPrice' is -5"),
        ({"openPrice": "inf"}, r"field 'entryPrice' is not a number we can use"),
        ({"size": "1e30"}, r"field 'contracts' is .*beyond Numeric"),
        ({"side": "FLAT"}, r"field 'side'"),
    ],
)
def test_a_position_out_of_range_is_malformed(replay, fields, message):
    with pytest.raises(MalformedResponseError, match=f"extended: fetch_positions .*{message}"):
        extended_position(replay, **fields).positions()


def test_a_taker_fee_below_zero_is_malformed(replay):
    venue = replay("extended")
    venue.serve("fetchTradingFee", patch=lambda a: a["data"][0].update(takerFeeRate="-1"))
    with pytest.raises(MalformedResponseError, match=r"fetch_trading_fee: field 'taker' is -1"):
        venue.client(at("2026-05-05T08:00:00+00:00")).instruments()


def test_a_zero_contract_size_is_malformed_not_taken_as_one(replay):
    venue = replay("extended")
    venue.serve("fetchTradingFee")
    extended = venue.client(at("2026-05-05T08:00:00+00:00"))
    venue.exchange.load_markets()["BTC/USDC:USDC"]["contractSize"] = 0
    with pytest.raises(MalformedResponseError, match="contractSize"):
        extended.instruments()


def test_more_filled_than_ordered_is_malformed(replay):
    venue = replay("extended")
    extended = venue.client(at("2026-05-05T08:00:00+00:00"))
    vcid = extended.quirks.client_ids.derive("pos-1")

    def overfilled(answer):
        answer["data"][0].update(externalId=vcid, filledQty="0.02")

    venue.serve(
        "fetchOrder",
        "fetch order by clientOrderId",
        path=r"/api/v1/user/orders/external/[^/]+",
        patch=overfilled,
    )
    with pytest.raises(MalformedResponseError, match=r"field 'filled' is 0.02 of an order for"):
        extended.get_order("BTC", "pos-1")


def test_a_book_without_its_time_is_refused_not_stamped_now(replay):
    venue = replay("paradex")

    def untimed(book):
        del book["last_updated_at"]

    venue.serve("fetchOrderBook", patch=untimed)
    with pytest.raises(MalformedResponseError, match="refusing to take the clock's now"):
        venue.client(at("2024-06-14T15:20:00+00:00")).top_of_book("BTC")


def test_collection_stores_every_good_venue_and_records_the_bad_one(replay, clean_db):
    good = replay("backpack")
    good.serve("fetchFundingRate")
    eth_only = [m for m in good.exchange.markets.values() if m["base"] == "ETH"]
    good.exchange.set_markets(eth_only)  # the recorded rate is ETH's
    clock = ManualClock(datetime(2025, 8, 11, 20, tzinfo=UTC))
    bad = grvt_rate(replay, funding_rate="1e25")
    clients = {"backpack": good.client(clock), "grvt": bad}
    report = FundingCollector(clients, clock, clean_db).collect()
    assert report.stored == {"backpack": 1} and list(report.failures) == ["grvt"]
    assert "MalformedResponseError" in report.failures["grvt"]
    with Session(clean_db) as s:
        assert s.scalars(select(FundingRateRow.venue)).all() == ["backpack"]
        [event] = s.scalars(select(Event).where(Event.kind == "funding.collect_failed")).all()
        assert event.entity_id == "grvt" and "fundingRate" in event.payload["reason"]


@pytest.mark.parametrize("hours", ["1/60", "1/12", "0.25", "0.5", 1, 2, 4, 8, 12, 24])
def test_funding_intervals_on_the_grid_pass(hours):
    value = D(1) / D(hours.split("/")[1]) if isinstance(hours, str) and "/" in hours else D(hours)
    boundary = Boundary("x", at("2026-01-01T00:00:00+00:00"))
    assert boundary.interval_hours(value, "m", "f") == value


@pytest.mark.parametrize("hours", ["0", "-1", "0.15", "5", "7", "25", "48", "0.0000001"])
def test_funding_intervals_off_the_grid_are_malformed(hours):
    boundary = Boundary("x", at("2026-01-01T00:00:00+00:00"))
    with pytest.raises(MalformedResponseError, match="x: m: field 'f' gives a funding interval"):
        boundary.interval_hours(D(hours), "m", "f")


@pytest.mark.parametrize("value", [float("inf"), float("nan"), 1e20, "1e20", -1e20, "soon"])
def test_times_that_are_no_time_are_typed_errors_not_os_or_overflow_errors(value):
    boundary = Boundary("x", at("2026-01-01T00:00:00+00:00"))
    with pytest.raises(MalformedResponseError, match="x: m: field 't' is"):
        boundary.time(value, "m", "t", market=False)
