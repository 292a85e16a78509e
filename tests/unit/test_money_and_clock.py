import time
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.clock import ManualClock, ScaledClock, SystemClock, clock_from_settings, ensure_utc
from core.money import quantize_down, round_to, to_decimal
from core.settings import get_settings


def test_float_input_keeps_its_shortest_decimal_form():
    assert to_decimal(0.1) == Decimal("0.1")
    assert to_decimal("0.00001250") == Decimal("0.0000125")


@pytest.mark.parametrize("bad", ["abc", float("nan"), float("inf"), True, None, [1]])
def test_non_numbers_are_refused_with_the_field_name(bad):
    with pytest.raises(ValueError, match="price"):
        to_decimal(bad, "price")


@given(st.decimals(min_value=0, max_value=10**9, places=8), st.sampled_from(["0.001", "0.1", "1"]))
def test_quantize_down_never_rounds_up(value, step):
    step = Decimal(step)
    result = quantize_down(value, step)
    assert result <= value
    assert value - result < step
    assert result % step == 0


def test_round_to_tick():
    assert round_to(Decimal("100.26"), Decimal("0.5")) == Decimal("100.5")
    with pytest.raises(ValueError):
        round_to(Decimal(1), Decimal(0))


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="naive"):
        ensure_utc(datetime(2026, 1, 1))
    other = datetime(2026, 1, 1, 2, tzinfo=timezone(timedelta(hours=2)))
    assert ensure_utc(other) == datetime(2026, 1, 1, tzinfo=UTC)


def test_manual_clock_moves_only_forward():
    clock = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
    assert clock.advance(timedelta(hours=1)) == datetime(2026, 1, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError):
        clock.set(datetime(2025, 1, 1, tzinfo=UTC))
    with pytest.raises(ValueError):
        clock.advance(timedelta(seconds=-1))


def test_scaled_clock_runs_faster_than_real_time():
    import time

    start = time.time()
    clock = ScaledClock(datetime(2026, 1, 1, tzinfo=UTC), start - 2, speed=3600)
    # Two real seconds at 3600x are (at least) two simulated hours.
    assert clock.now() >= datetime(2026, 1, 1, 2, tzinfo=UTC)
    assert clock.real_seconds_for(timedelta(hours=1)) == 1.0
    with pytest.raises(ValueError):
        ScaledClock(datetime(2026, 1, 1, tzinfo=UTC), start, 0)


def test_processes_with_the_same_settings_share_one_scaled_clock(monkeypatch):
    monkeypatch.setenv("PERPBOT_CLOCK_ORIGIN", "2026-01-01T00:00:00+00:00")
    monkeypatch.setenv("PERPBOT_CLOCK_SPEED", "60")
    monkeypatch.setenv("PERPBOT_CLOCK_REAL_START", "1000")
    get_settings.cache_clear()
    try:
        a, b = clock_from_settings(), clock_from_settings()
        assert isinstance(a, ScaledClock)
        assert abs((a.now() - b.now()).total_seconds()) < 60
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert isinstance(clock_from_settings(), SystemClock)


def test_manual_clock_sleep_moves_time_at_once_and_monotonic_follows():
    clock = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
    started = clock.monotonic()
    clock.sleep(2.5)
    assert clock.now() == datetime(2026, 1, 1, 0, 0, 2, 500000, tzinfo=UTC)
    assert clock.monotonic() - started == 2.5
    with pytest.raises(ValueError, match="cannot wait"):
        clock.sleep(-1)
    with pytest.raises(ValueError, match="cannot wait"):
        clock.sleep(float("nan"))


def test_scaled_clock_waits_and_measures_in_simulated_seconds():
    clock = ScaledClock(datetime(2026, 1, 1, tzinfo=UTC), time.time(), speed=1000)
    before_real, before = time.monotonic(), clock.monotonic()
    clock.sleep(50)  # 50 simulated seconds: 0.05 real seconds
    assert 0.04 <= time.monotonic() - before_real < 1.0
    assert clock.monotonic() - before >= 40


def test_system_clock_waits_really():
    clock = SystemClock()
    before = clock.monotonic()
    clock.sleep(0.02)
    assert clock.monotonic() - before >= 0.02
