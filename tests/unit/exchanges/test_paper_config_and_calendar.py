"""Fault decisions, paper venue configuration, the funding calendar and the venue table."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from core.errors import ConfigError
from exchanges.paper import FaultConfig, PaperVenueConfig
from exchanges.simulation.market import Tick, funding_events, is_funding_time, next_funding_time
from exchanges.venues import VENUES, check_interval_hours, symbol_spec, venue_profile

D = Decimal
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_fault_draws_are_fixed_by_seed_venue_key_and_operation():
    faults = FaultConfig(seed=1)
    draw = faults.draw("paradex", "cid-1", "reject")
    assert draw == FaultConfig(seed=1).draw("paradex", "cid-1", "reject")
    others = {
        FaultConfig(seed=2).draw("paradex", "cid-1", "reject"),
        faults.draw("hyperliquid", "cid-1", "reject"),
        faults.draw("paradex", "cid-2", "reject"),
        faults.draw("paradex", "cid-1", "timeout"),
    }
    assert draw not in others and len(others) == 4


def test_fault_rate_is_respected_over_many_keys():
    faults = FaultConfig(seed=5, reject_rate=0.3)
    hits = sum(faults.decides(0.3, "grvt", f"k{i}", "reject") for i in range(4000))
    assert 1000 < hits < 1400
    assert not any(faults.decides(0.0, "grvt", f"k{i}", "reject") for i in range(100))
    assert all(faults.decides(1.0, "grvt", f"k{i}", "reject") for i in range(100))


def test_latency_is_within_bounds_and_zero_when_off():
    faults = FaultConfig(max_latency_ms=50)
    delays = [faults.latency_seconds("apex", f"k{i}", "place_order") for i in range(200)]
    assert all(0 <= d < 0.05 for d in delays) and len(set(delays)) > 150
    assert FaultConfig().latency_seconds("apex", "k", "place_order") == 0


def test_bad_configuration_names_the_field():
    with pytest.raises(ValidationError, match="reject_rate"):
        FaultConfig(reject_rate=1.5)
    with pytest.raises(ValidationError, match="leverage"):
        PaperVenueConfig(leverage=D(0))
    with pytest.raises(ValidationError, match="surprise"):
        PaperVenueConfig(surprise=1)


def test_fees_default_to_the_venue_profile_and_can_be_overridden():
    grvt = venue_profile("grvt")
    assert PaperVenueConfig().maker_rate(grvt) == D("-0.0001")  # GRVT pays makers a rebate
    assert PaperVenueConfig(taker_fee=D("0.001")).taker_rate(grvt) == D("0.001")
    assert PaperVenueConfig(withdrawal_fee=D(0)).withdrawal_fee_for(grvt) == 0


def test_venue_table_has_the_documented_intervals():
    hourly = {"hyperliquid", "lighter", "dydx", "backpack", "extended"}
    assert {name for name, p in VENUES.items() if p.funding_interval_hours == 1} == hourly
    assert {name for name, p in VENUES.items() if p.funding_interval_hours == 8} == {
        "paradex",
        "grvt",
        "apex",
        "aster",
        "binance",
        "bybit",
    }
    assert venue_profile("aster").interval_for("SOL") == 4
    assert venue_profile("aster").interval_for("BTC") == 8
    with pytest.raises(ConfigError, match="unknown venue 'kraken'; known venues: apex"):
        venue_profile("kraken")
    assert symbol_spec("BTC").maintenance_margin_rate == D(1) / 80
    assert symbol_spec("PEPE").min_qty == 1


@pytest.mark.parametrize("bad", [D(0), D(5), D("1.5"), D(48)])
def test_funding_interval_must_divide_a_day(bad):
    with pytest.raises(ValueError, match="not a whole divisor of 24"):
        check_interval_hours(bad, "interval_hours")


def test_funding_times_are_multiples_of_the_interval_since_midnight():
    assert is_funding_time(T0 + timedelta(hours=16), D(8))
    assert not is_funding_time(T0 + timedelta(hours=12), D(8))
    assert is_funding_time(T0 + timedelta(hours=12), D(4))
    assert not is_funding_time(T0 + timedelta(hours=1, minutes=30), D(1))
    assert next_funding_time(T0 + timedelta(hours=8), D(8)) == T0 + timedelta(hours=16)
    assert next_funding_time(T0 + timedelta(minutes=1), D(1)) == T0 + timedelta(hours=1)


def test_funding_events_use_the_tick_in_force_and_follow_interval_changes():
    def tick(hour, rate, interval):
        return Tick("aster", "SOL", T0 + timedelta(hours=hour), D(100), D(rate), D(interval))

    window = [tick(2, "0.001", 8), tick(7, "0.002", 4), tick(12, "0.003", 4)]
    events = list(funding_events("SOL", None, window, T0, T0 + timedelta(hours=16)))
    # Nothing before the first tick; 08:00 on the 4 h interval that started at 07:00.
    assert [(e.funding_time.hour, e.rate, e.interval_hours) for e in events] == [
        (8, D("0.002"), 4),
        (12, D("0.003"), 4),
        (16, D("0.003"), 4),
    ]
    prior = tick(0, "0.0005", 8)
    events = list(
        funding_events("SOL", prior, [], T0 + timedelta(hours=1), T0 + timedelta(hours=9))
    )
    assert [(e.funding_time.hour, e.rate) for e in events] == [(8, D("0.0005"))]


def _hour_by_hour(prior, window, after, until):
    """The calendar's definition, one hour at a time: the tick in force at each whole hour."""
    ticks = ([prior] if prior else []) + list(window)
    hour = after.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    while hour <= until:
        in_force = [t for t in ticks if t.ts <= hour]
        if in_force and is_funding_time(hour, in_force[-1].interval_hours):
            yield (hour, in_force[-1].funding_rate, in_force[-1].interval_hours)
        hour += timedelta(hours=1)


@given(
    st.lists(
        st.tuples(st.integers(0, 72 * 60), st.sampled_from([1, 2, 4, 8, 12, 24])),
        min_size=0,
        max_size=12,
    ),
    st.integers(0, 24 * 60),
    st.integers(0, 96 * 60),
    st.booleans(),
)
def test_funding_events_are_the_calendar_hour_by_hour(points, after_min, span_min, with_prior):
    after = T0 + timedelta(minutes=after_min)
    until = after + timedelta(minutes=span_min)
    times = sorted({T0 + timedelta(minutes=m) for m, _ in points})
    ticks = [
        Tick("aster", "SOL", ts, D(100), D(i + 1), D(interval))
        for i, (ts, (_, interval)) in enumerate(zip(times, points, strict=False))
    ]
    prior_ticks = [t for t in ticks if t.ts <= after]
    prior = prior_ticks[-1] if (with_prior and prior_ticks) else None
    window = [t for t in ticks if after < t.ts <= until]
    got = [
        (e.funding_time, e.rate, e.interval_hours)
        for e in funding_events("SOL", prior, window, after, until)
    ]
    assert got == list(_hour_by_hour(prior, window, after, until))
